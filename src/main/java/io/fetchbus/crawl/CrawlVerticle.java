package io.fetchbus.crawl;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.CrawlJob;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.Extraction;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.config.Settings;
import io.fetchbus.webhook.WebhookSender;
import io.fetchbus.webhook.WebhookSettings;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Works the crawl frontier of every job: leases due entries from the store and has {@link EntryWorker} fetch,
 * extract and hand each page back with its links, under the lease; renews the leases, reaps expired ones and
 * publishes progress. It keeps no job state of its own beyond the entries leased right
 * now (at most {@code crawl.maxInFlight}), so any number of nodes can work one job and a node can die at any
 * moment: its leases expire and another node's reaper gives the entries back.
 */
public final class CrawlVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(CrawlVerticle.class);
  private static final int MAX_PLANS = 256;
  private static final long PROGRESS_EVERY_MS = 1_000;

  /**
   * The lease owner this verticle claims as: its node's id, a slash, and an id of its own, so that the cluster can
   * give back the leases of a node that left it ({@link Bus#FRONTIER_RELEASE} with {@code "node"}).
   */
  private String owner;
  private final Map<String, Lease> inFlight = new HashMap<>();
  private final Map<String, Integer> perHost = new HashMap<>();
  private RefusedHosts refused;
  private final Set<String> dirty = new HashSet<>();
  private final Map<String, Future<JobPlan>> plans = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Future<JobPlan>> eldest) {
      return size() > MAX_PLANS;
    }
  };
  private CrawlSettings settings;
  private DeliveryOptions fetchDelivery;
  private DeliveryOptions storeDelivery;
  private Extraction extraction;
  private WebhookSender webhooks;
  private EntryWorker entries;
  private WatchRunner watches;
  private boolean claiming;
  private Future<?> lastClaim = Future.succeededFuture();
  /** Until when claims first give back leases this verticle may hold unknowingly ({@link #leasesUnknown}). */
  private long unknownLeasesUntil;
  private boolean stopping;
  /** Once stopping: done when nothing is in flight or being claimed, or when the shutdown's grace period ends. */
  private Promise<Void> drained;

  @Override
  public Future<?> start() {
    settings = CrawlSettings.from(config());
    Object node = vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_ID);
    owner = (node instanceof String id ? id : "node-" + UUID.randomUUID()) + "/" + UUID.randomUUID();
    int maxActiveJobs = Settings.number(config(), "limits", "maxActiveJobsPerKey").intValue();
    if (maxActiveJobs < 1) {
      return Future.failedFuture(new IllegalArgumentException("limits.maxActiveJobsPerKey must be at least 1"));
    }
    fetchDelivery = new DeliveryOptions().setSendTimeout(settings.fetchTimeoutMs() + 5_000);
    Sitemaps sitemaps = new Sitemaps(vertx, fetchDelivery);
    extraction = Extraction.shared(vertx, config());
    // A node that runs the fetch or the store role sends to its own verticles, another to a live member that runs it
    // (MemberRouter), never to one that stopped answering.
    storeDelivery = new DeliveryOptions().setSendTimeout(
        Settings.storeTimeoutMs(config()));
    webhooks = new WebhookSender(vertx, WebhookSettings.from(config()), storeDelivery);
    refused = RefusedHosts.of(vertx);
    entries = new EntryWorker(vertx, settings, sitemaps, extraction, webhooks, fetchDelivery, storeDelivery,
        () -> stopping, refused);
    vertx.setPeriodic(settings.pollMs(), t -> pump());
    vertx.setPeriodic(Math.max(1, settings.leaseMs() / 3), t -> renew());
    // Every node reaps: whichever is alive returns the leases of one that died.
    vertx.setPeriodic(Math.max(1, settings.leaseMs() / 2), t -> reap());
    vertx.setPeriodic(PROGRESS_EVERY_MS, t -> publishProgress());
    // Watches share this verticle's webhook sender (one queue, one bound per node) and lease owner.
    watches = new WatchRunner(vertx, WatchSettings.from(config()), webhooks, extraction, fetchDelivery, storeDelivery,
        owner);
    JobSubmissions submissions = new JobSubmissions(vertx, settings, maxActiveJobs, storeDelivery, this::pump);
    SiteMapper mapper = new SiteMapper(vertx, sitemaps, extraction, fetchDelivery, settings.fetchTimeoutMs());
    return Future.all(vertx.eventBus().<JsonObject>consumer(Bus.CRAWL_SUBMIT, submissions::submit).completion(),
        vertx.eventBus().<JsonObject>consumer(Bus.SITE_MAP, mapper::map).completion(),
        webhooks.start(), watches.start());
  }

  /**
   * Claims nothing more, lets the fetches in flight finish until the node's shutdown deadline (or
   * {@code shutdown.graceMs}), then gives this node's leases back at once, those of fetches still unfinished
   * included, so the work goes on elsewhere (or after a restart) without waiting for them to expire.
   */
  @Override
  public Future<?> stop() {
    stopping = true;
    watches.stop();
    drained = Promise.promise();
    Object deadline = vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_SHUTDOWN_DEADLINE);
    long graceMs = deadline instanceof Long at ? Math.max(0, at - System.currentTimeMillis())
        : Settings.graceMs(config());
    if (!inFlight.isEmpty()) {
      LOG.info("waiting up to {} ms for {} crawl fetches in flight", graceMs, inFlight.size());
    }
    long timer = vertx.setTimer(Math.max(1, graceMs), t -> drained.tryComplete());
    checkDrained();
    return drained.future()
        .compose(v -> {
          vertx.cancelTimer(timer);
          if (!inFlight.isEmpty()) {
            LOG.info("{} crawl fetches still in flight after the grace period: their leases are released", inFlight.size());
          }
          return lastClaim.otherwiseEmpty(); // a claim under way may still take leases: release after it
        })
        .compose(v -> release());
  }

  private void checkDrained() {
    if (drained != null && inFlight.isEmpty() && !claiming) {
      drained.tryComplete();
    }
  }

  private Future<?> release() {
    return MemberRouter.<JsonObject>request(vertx, Bus.FRONTIER_RELEASE, new JsonObject().put("owner", owner), storeDelivery)
        .onSuccess(m -> LOG.info("released {} crawl leases of {}", m.body().getInteger("released"), owner))
        .onFailure(err -> LOG.warn("could not release the crawl leases of {}: {}; they expire in {} ms", owner,
            err.getMessage(), settings.leaseMs()))
        .otherwiseEmpty();
  }

  /**
   * Leases as many due entries as this node has room for. Runs on a timer and whenever a good share of the
   * room frees up, so a busy node claims in batches rather than one entry per finished page.
   */
  private void pump() {
    int room = settings.maxInFlight() - inFlight.size();
    if (claiming || stopping || room <= 0) {
      return;
    }
    claiming = true;
    lastClaim = releaseUnknown().compose(v -> {
      // Fetches may have finished while the release ran: the room is counted again.
      int space = settings.maxInFlight() - inFlight.size();
      return space <= 0 || stopping ? Future.succeededFuture(new JsonObject().put("entries", new JsonArray())
              .put("changed", new JsonArray()))
          : store(Bus.FRONTIER_CLAIM, new JsonObject().put("owner", owner).put("max", space)
              .put("leaseMs", settings.leaseMs()).put("perHost", settings.perHostInFlight()).put("busyHosts", busyHosts()));
    }).onComplete(ar -> {
      claiming = false;
      if (ar.failed()) {
        LOG.debug("claiming crawl work failed: {}", ar.cause().getMessage());
        leasesUnknown();
        checkDrained();
        return;
      }
      JsonArray entries = ar.result().getJsonArray("entries");
      for (int i = 0; i < entries.size(); i++) {
        work(Lease.from(entries.getJsonObject(i)));
      }
      JsonArray started = ar.result().getJsonArray("started", new JsonArray());
      ar.result().getJsonArray("changed").forEach(id -> changed((String) id, started.contains(id)));
      if (!entries.isEmpty() && entries.size() >= room) {
        pump(); // there may be more due right now
      }
      checkDrained();
    });
  }

  /**
   * A claim failed, or a result could not be written: the store may hold leases of this verticle's that it does not
   * know of (the claim committed but its answer was lost; the result's lease is still held). Until they would have
   * expired, each claim first gives them back, so the crawl does not wait out a lease for them.
   */
  private void leasesUnknown() {
    unknownLeasesUntil = System.currentTimeMillis() + settings.leaseMs();
  }

  /** The leases of this verticle's that it does not hold, given back; nothing to do when there can be none. */
  private Future<Void> releaseUnknown() {
    if (System.currentTimeMillis() >= unknownLeasesUntil) {
      return Future.succeededFuture();
    }
    JsonObject req = new JsonObject().put("owner", owner).put("keep", new JsonArray(List.copyOf(inFlight.keySet())))
        .put("maxAttempts", settings.maxAttempts());
    return store(Bus.FRONTIER_RELEASE, req).map(m -> {
      int released = m.getInteger("released");
      if (released > 0) {
        LOG.warn("gave back {} crawl leases whose claim's answer or result was lost", released);
      }
      return null;
    });
  }

  /**
   * Per job, the hosts this verticle already has its share of in flight, and those this node has just refused
   * ({@link RefusedHosts}): the next claim skips them.
   */
  private JsonObject busyHosts() {
    Set<String> skipped = new HashSet<>(refused.skipped());
    perHost.forEach((key, n) -> {
      if (n >= settings.perHostInFlight()) {
        skipped.add(key);
      }
    });
    JsonObject busy = new JsonObject();
    for (String key : skipped) {
      int space = key.indexOf(' ');
      String job = key.substring(0, space);
      JsonArray hosts = busy.getJsonArray(job);
      if (hosts == null) {
        hosts = new JsonArray();
        busy.put(job, hosts);
      }
      hosts.add(key.substring(space + 1));
    }
    return busy;
  }

  private void work(Lease lease) {
    inFlight.put(lease.token(), lease);
    perHost.merge(lease.hostKey(), 1, Integer::sum);
    plan(lease.jobId())
        .compose(plan -> entries.work(lease, plan))
        .onFailure(err -> {
          if (Failure.LEASE_LOST.is(err)) {
            // Fencing at work: this node stalled (or lost PostgreSQL) past the lease and the entry went back to the
            // frontier, whose next holder stores it; or an earlier try whose answer was lost stored it already.
            LOG.info("the store refused the result for {} of job {}: the lease is no longer this node's (it ended "
                + "while the node held it, or an earlier try stored the page)", lease.url(), lease.jobId());
          } else {
            LOG.warn("crawl entry {} of job {} not finished here ({}); its lease goes back at the next claim",
                lease.url(), lease.jobId(), err.getMessage());
            leasesUnknown();
          }
        })
        .onComplete(ar -> done(lease));
  }

  private void done(Lease lease) {
    inFlight.remove(lease.token());
    perHost.computeIfPresent(lease.hostKey(), (k, n) -> n == 1 ? null : n - 1);
    dirty.add(lease.jobId());
    if (inFlight.size() <= settings.maxInFlight() * 3 / 4) {
      pump();
    }
    checkDrained();
  }

  private Future<JobPlan> plan(String jobId) {
    Future<JobPlan> plan = plans.get(jobId);
    if (plan == null) {
      // Compiling up to 200 patterns, and the public suffix list on first use, is work for a worker thread.
      plan = store(Bus.CRAWL_STATUS, new JsonObject().put("id", jobId))
          .compose(json -> vertx.executeBlocking(() -> JobPlan.of(CrawlJob.from(json)), false));
      plans.put(jobId, plan);
      plan.onFailure(err -> plans.remove(jobId));
    }
    return plan;
  }

  private void renew() {
    if (inFlight.isEmpty()) {
      return;
    }
    JsonObject req = new JsonObject().put("owner", owner).put("leaseMs", settings.leaseMs())
        .put("tokens", new JsonArray(List.copyOf(inFlight.keySet())));
    store(Bus.FRONTIER_RENEW, req).onFailure(err -> LOG.debug("renewing leases failed: {}", err.getMessage()));
  }

  private void reap() {
    store(Bus.FRONTIER_REAP, new JsonObject().put("maxAttempts", settings.maxAttempts()))
        .onSuccess(r -> {
          if (r.getInteger("reaped") > 0) {
            LOG.info("returned {} expired crawl leases to the frontier", r.getInteger("reaped"));
            pump();
          }
        })
        .onFailure(err -> LOG.debug("reaping expired leases failed: {}", err.getMessage()));
  }

  /** Progress of the jobs this node worked on in the last second. */
  private void publishProgress() {
    List<String> jobs = List.copyOf(dirty);
    dirty.clear();
    jobs.forEach(this::progress);
  }

  private Future<JsonObject> progress(String jobId) {
    return store(Bus.CRAWL_STATUS, new JsonObject().put("id", jobId)).onSuccess(job -> {
      vertx.eventBus().publish(Bus.CRAWL_PROGRESS, job);
      if (CrawlJob.from(job).finished()) {
        plans.remove(jobId);
      }
    });
  }

  /** A job this node's claim started or finished: its progress, and its webhook's started or final event. */
  private void changed(String jobId, boolean started) {
    progress(jobId).onSuccess(job -> webhooks.changed(job, started));
  }

  private Future<JsonObject> store(String address, JsonObject body) {
    return MemberRouter.<JsonObject>request(vertx, address, body, storeDelivery).map(Message::body);
  }
}
