package io.fetchbus.crawl;

import com.github.difflib.DiffUtils;
import com.github.difflib.UnifiedDiffUtils;
import com.github.difflib.patch.Patch;
import io.fetchbus.bus.Bus;
import io.fetchbus.bus.ContentFormats;
import io.fetchbus.bus.Extraction;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FailureReplies;
import io.fetchbus.bus.FetchRequest;
import io.fetchbus.bus.FetchResult;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.bus.SavePage;
import io.fetchbus.ops.Meters;
import io.fetchbus.webhook.WebhookSender;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.fetchbus.bus.CrawlJob;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs watches: every {@code watches.pollMs} it leases due watches from the store (at most {@code watches.maxRuns}
 * at once on this node), and {@link Bus#WATCHES_RUN} runs one now. A run checks the watch's URLs one after the other
 * through {@link Bus#FETCH} (politeness, robots.txt, the destination guard), conditionally when it has validators so
 * that a 304 costs no body, compares each page's main text with the URL's baseline, and records the whole run in one
 * transaction under its lease: a node that dies mid-run has written nothing, and the watch runs again elsewhere once
 * the lease ends. Each new version is stored as a page first ({@link Bus#PAGES_SAVE}), so a run that cannot record
 * may leave pages behind: the history of the URL, without a version pointing at them. Changes go out as
 * {@code page.changed} webhook events and on {@link Bus#WATCH_CHANGED}.
 * <p>
 * A site watch ({@code crawl} instead of {@code urls}) runs a crawl job instead of fetching URLs itself
 * ({@link WatchCrawls}): once the job has ended, each page it stored is compared with the baseline of its URL (a URL
 * first reached is new), and a URL of the watch it did not reach, or reached as a 404 or 410, is removed and
 * forgotten (back later, it is new again) but when the crawl did not reach everything (it stopped at its limit, or was
 * cancelled): then a URL not reached keeps its state. A URL the crawl failed to fetch keeps its state with the error.
 */
final class WatchRunner {
  private static final Logger LOG = LoggerFactory.getLogger(WatchRunner.class);

  private final Vertx vertx;
  private final WatchSettings settings;
  private final WebhookSender webhooks;
  private final Extraction extraction;
  private final DeliveryOptions fetchDelivery;
  private final DeliveryOptions storeDelivery;
  private final String owner;
  private final WatchCrawls crawls;
  private int running;
  private boolean claiming;
  private boolean stopping;
  private long timer = -1;

  WatchRunner(Vertx vertx, WatchSettings settings, WebhookSender webhooks, Extraction extraction,
              DeliveryOptions fetchDelivery, DeliveryOptions storeDelivery, String owner) {
    this.vertx = vertx;
    this.settings = settings;
    this.webhooks = webhooks;
    this.extraction = extraction;
    this.fetchDelivery = fetchDelivery;
    this.storeDelivery = storeDelivery;
    this.owner = owner;
    this.crawls = new WatchCrawls(vertx, storeDelivery);
  }

  Future<Void> start() {
    timer = vertx.setPeriodic(settings.pollMs(), t -> pump());
    var bus = vertx.eventBus();
    return Future.all(bus.<JsonObject>consumer(Bus.WATCHES_CREATE, this::create).completion(),
        bus.<JsonObject>consumer(Bus.WATCHES_RUN, this::runNow).completion()).mapEmpty();
  }

  /** No new run starts; a run under way that cannot record any more is taken over once its lease ends. */
  void stop() {
    stopping = true;
    vertx.cancelTimer(timer);
  }

  private void create(Message<JsonObject> msg) {
    JsonObject req = msg.body() == null ? new JsonObject() : msg.body();
    if (!(req.getValue("spec") instanceof JsonObject given)) {
      FailureReplies.reply(msg, Failure.INVALID.exception("body: must be a JSON object"));
      return;
    }
    // On a worker: up to watches.maxUrls URLs, two CSS selectors and a cron's 400 years of days (about 1 ms) to read.
    vertx.executeBlocking(() -> WatchSpec.validate(given, settings), false)
        .compose(spec -> store(Bus.WATCHES_INSERT, new JsonObject().put("spec", spec)
            .put("keyName", req.getString("keyName")).put("maxPerKey", settings.maxPerKey())))
        .onSuccess(msg::reply)
        .onFailure(err -> FailureReplies.reply(msg, err));
  }

  private void runNow(Message<JsonObject> msg) {
    JsonObject req = msg.body() == null ? new JsonObject() : msg.body();
    if (!(req.getValue("id") instanceof String id)) {
      // Without an id the claim would lease whichever watch is due: never what a caller asked for.
      FailureReplies.reply(msg, Failure.INVALID.exception("id: must be a watch id (a UUID)"));
      return;
    }
    store(Bus.WATCHES_CLAIM, new JsonObject().put("owner", owner).put("leaseMs", settings.leaseMs()).put("id", id)
        .put("keyName", req.getString("keyName")))
        .compose(claimed -> run(claimed.getJsonArray("items").getJsonObject(0)))
        .onSuccess(msg::reply)
        .onFailure(err -> FailureReplies.reply(msg, err));
  }

  private void pump() {
    if (stopping || claiming || running >= settings.maxRuns()) {
      return;
    }
    claiming = true;
    store(Bus.WATCHES_CLAIM, new JsonObject().put("owner", owner).put("leaseMs", settings.leaseMs())
        .put("limit", settings.maxRuns() - running))
        .onComplete(ar -> claiming = false)
        .onSuccess(claimed -> claimed.getJsonArray("items").forEach(w -> {
          running++;
          run((JsonObject) w).onComplete(done -> running--)
              .onFailure(err -> LOG.warn("watch {} run failed: {}", ((JsonObject) w).getString("id"),
                  FailureReplies.status(err)));
        }))
        .onFailure(err -> LOG.debug("watches not claimed: {}", err.getMessage()));
  }

  /** Checks every URL, then records the run and sends what changed; the answer of {@link Bus#WATCHES_RUN}. */
  Future<JsonObject> run(JsonObject watch) {
    JsonObject spec = watch.getJsonObject("spec");
    JsonArray urls = watch.getJsonArray("urls");
    List<JsonObject> outcomes = new ArrayList<>();
    JsonArray forget = new JsonArray();
    Future<Void> chain = Future.succeededFuture();
    if (spec.getJsonObject("crawl") != null) {
      chain = site(watch, outcomes, forget);
    } else {
      for (Object u : urls) {
        chain = chain.compose(v -> check(spec, (JsonObject) u).map(outcome -> {
          outcomes.add(outcome);
          return null;
        }));
      }
    }
    // A run may outlast its lease (many URLs, slow sites, a crawl): it renews it while under way, so that no other
    // node takes the watch and runs it a second time meanwhile.
    long renewal = vertx.setPeriodic(Math.max(1, settings.leaseMs() / 3), t -> renew(watch));
    return chain.compose(v -> record(watch, outcomes, forget)).onComplete(ar -> vertx.cancelTimer(renewal));
  }

  /**
   * A site watch's run: its crawl job, then each page it stored compared with its URL's baseline, in the order the
   * crawl stored them, then the URLs it did not reach. Fills {@code outcomes} and the positions to {@code forget}.
   */
  private Future<Void> site(JsonObject watch, List<JsonObject> outcomes, JsonArray forget) {
    JsonObject spec = watch.getJsonObject("spec");
    Map<String, JsonObject> known = new LinkedHashMap<>();
    int[] nextPosition = {0};
    for (Object u : watch.getJsonArray("urls")) {
      JsonObject before = (JsonObject) u;
      known.put(before.getString("url"), before);
      nextPosition[0] = Math.max(nextPosition[0], before.getInteger("position") + 1);
    }
    int limit = spec.getJsonObject("crawl").getInteger("limit");
    return crawls.crawl(watch).compose(job -> crawls.pages(job.id(), limit).compose(pages -> {
      Future<Void> chain = Future.succeededFuture();
      int reached = 0;
      for (Object p : pages) {
        JsonObject page = (JsonObject) p;
        String url = page.getString("url");
        JsonObject before = known.remove(url);
        Integer status = page.getInteger("status");
        if (before == null && (status != null && (status == 404 || status == 410))) {
          continue; // a broken link, never seen as a page: not watched
        }
        if (before == null) {
          before = new JsonObject().put("url", url).put("position", nextPosition[0]++).put("added", true);
        }
        reached++;
        JsonObject baseline = before;
        chain = chain.compose(v -> checkStored(spec, baseline, page).map(outcome -> {
          outcomes.add(outcome);
          return null;
        }));
      }
      int kept = reached;
      return chain.compose(v -> crawls.failed(job.id(), settings.maxUrls() * 2))
          .compose(failed -> notReached(job, known, failed, kept, outcomes, forget));
    })).map(v -> {
      for (JsonObject o : outcomes) {
        if ("removed".equals(o.getString("changeStatus"))) {
          forget.add(o.getJsonObject("state").getInteger("position"));
          o.remove("state");
        }
      }
      return null;
    });
  }

  /**
   * The URLs of a site watch its crawl did not store a page of: failed ones keep their state with the error; the
   * others are removed when the crawl reached everything it could, else keep their state; both as long as the watch
   * stays within {@code watches.maxUrls} URLs (past it, they are forgotten).
   */
  private Future<Void> notReached(CrawlJob job, Map<String, JsonObject> known, Set<String> failed,
                                  int reached, List<JsonObject> outcomes, JsonArray forget) {
    boolean whole = CrawlJob.COMPLETED.equals(job.status()) && job.skipped() == 0;
    int room = settings.maxUrls() - reached;
    Future<Void> chain = Future.succeededFuture();
    for (JsonObject before : known.values()) {
      String url = before.getString("url");
      JsonObject state = new JsonObject().put("position", before.getInteger("position"))
          .put("etag", before.getString("etag")).put("lastModified", before.getString("lastModified"));
      if (failed.contains(url) && room <= 0) {
        forget.add(before.getInteger("position"));
      } else if (failed.contains(url)) {
        String error = "the crawl of this run could not fetch it (GET /v1/crawls/" + job.id() + "/errors)";
        state.put("error", error).put("status", before.getInteger("status"));
        outcomes.add(new JsonObject().put("url", url).put("error", error).put("state", state));
        room--;
      } else if (whole && before.getString("text") != null) {
        chain = chain.compose(v -> removed(before, state, null, () -> Future.succeededFuture(null))
            .map(outcome -> {
              outcomes.add(outcome);
              return null;
            }));
      } else if (whole || room <= 0) {
        forget.add(before.getInteger("position"));
      } else {
        room--;
      }
    }
    return chain;
  }

  /** A page a site watch's crawl stored, compared with its URL's baseline ({@code before}). */
  private Future<JsonObject> checkStored(JsonObject spec, JsonObject before, JsonObject page) {
    String url = before.getString("url");
    JsonObject state = new JsonObject().put("position", before.getInteger("position"));
    if (before.getBoolean("added", false)) {
      state.put("added", true).put("url", url);
    }
    Integer status = page.getInteger("status");
    long pageId = page.getLong("id");
    if (status == null) {
      String error = page.getString("error", "the crawl could not fetch it");
      state.put("error", error).put("status", before.getInteger("status"));
      return Future.succeededFuture(new JsonObject().put("url", url).put("error", error).put("state", state));
    }
    Future<Buffer> body = status >= 200 && status < 300
        ? crawls.content(pageId).map(c -> c.getBuffer("body")) : Future.succeededFuture(null);
    return body.compose(b -> compare(spec, before, state, new Observed(status, page.getString("finalUrl", url),
            page.getString("contentType"), b, null, null, () -> Future.succeededFuture(pageId))))
        .recover(err -> {
          String error = Failure.of(FailureReplies.status(err), err.getMessage()).slug;
          state.put("error", error).put("status", before.getInteger("status"));
          return Future.succeededFuture(new JsonObject().put("url", url).put("error", error).put("state", state));
        });
  }

  /**
   * What a run saw of a URL: a fetch's answer, or the page a site watch's crawl stored; {@code keep} stores a new
   * version (or names the page the crawl stored) and answers its page id.
   */
  private record Observed(int status, String finalUrl, String contentType, Buffer body, String etag,
                          String lastModified, Supplier<Future<Long>> keep) {}

  private void renew(JsonObject watch) {
    store(Bus.WATCHES_RENEW, new JsonObject().put("id", watch.getString("id"))
        .put("leaseToken", watch.getString("leaseToken")).put("leaseMs", settings.leaseMs()))
        .onSuccess(r -> {
          if (!r.getBoolean("renewed", false)) {
            LOG.info("watch {}: its lease went to another node during the run; this run will not be recorded",
                watch.getString("id"));
          }
        })
        .onFailure(err -> LOG.debug("watch {}: lease not renewed: {}", watch.getString("id"), err.getMessage()));
  }

  private Future<JsonObject> record(JsonObject watch, List<JsonObject> outcomes, JsonArray forget) {
    JsonObject spec = watch.getJsonObject("spec");
    boolean changed = outcomes.stream().anyMatch(o -> o.getString("changeStatus") != null
        && Set.of("changed", "removed").contains(o.getString("changeStatus")));
    boolean unchanged = !outcomes.isEmpty() && outcomes.stream().allMatch(o -> "same".equals(o.getString("changeStatus")));
    long interval;
    Instant nextAt = null;
    if (spec.getString("cron") != null) {
      // A cron watch runs at the cron's times: the next one after the run ends, whatever the run found.
      interval = watch.getLong("intervalSeconds");
      nextAt = WatchCron.parse(spec.getString("cron")).next(Instant.now()).orElse(null);
    } else {
      interval = WatchSpec.nextInterval(watch.getLong("intervalSeconds"), spec.getLong("minIntervalSeconds"),
          spec.getLong("maxIntervalSeconds"), changed, unchanged);
    }
    JsonArray states = new JsonArray();
    JsonArray changes = new JsonArray();
    JsonArray results = new JsonArray();
    for (JsonObject o : outcomes) {
      if (o.getJsonObject("state") != null) {
        states.add(o.getJsonObject("state"));
      }
      if (o.getJsonObject("change") != null) {
        changes.add(o.getJsonObject("change"));
      }
      results.add(new JsonObject().put("url", o.getString("url")).put("changeStatus", o.getString("changeStatus"))
          .put("status", o.getInteger("status")).put("distance", o.getInteger("distance"))
          .put("pageId", o.getLong("pageId")).put("error", o.getString("error")));
    }
    String id = watch.getString("id");
    return store(Bus.WATCHES_RECORD, new JsonObject().put("id", id).put("leaseToken", watch.getString("leaseToken"))
        .put("intervalSeconds", interval).put("nextAt", nextAt).put("maxVersions", settings.maxVersionsPerUrl())
        .put("urls", states).put("forget", forget).put("changes", changes))
        .map(recorded -> {
          Meters meters = Meters.of(vertx);
          outcomes.forEach(o -> meters.watchChecked(o.getString("changeStatus") == null ? "error"
              : o.getString("changeStatus")));
          for (Object c : changes) {
            JsonObject data = ((JsonObject) c).copy().put("watchId", id);
            vertx.eventBus().publish(Bus.WATCH_CHANGED, data);
            if (spec.getJsonObject("webhook") != null) {
              // One delivery id per watch, URL and run: a receiver drops a copy it already has.
              String deliveryId = UUID.nameUUIDFromBytes((id + "/" + watch.getString("leaseToken") + "/"
                  + data.getString("url")).getBytes(StandardCharsets.UTF_8)).toString();
              webhooks.watchEvent(id, spec.getJsonObject("webhook"), WatchSpec.CHANGED_EVENT, data, deliveryId);
            }
          }
          return new JsonObject().put("id", id).put("intervalSeconds", recorded.getValue("intervalSeconds"))
              .put("cron", recorded.getString("cron"))
              .put("nextAt", recorded.getValue("nextAt")).put("results", results);
        });
  }

  /**
   * One URL: {@code {"url", "changeStatus", "status", "distance", "pageId", "error", "state": what the store keeps of
   * the URL, "change": the version to record, or none}}. A fetch that failed changes nothing but the URL's error.
   */
  private Future<JsonObject> check(JsonObject spec, JsonObject before) {
    String url = before.getString("url");
    boolean hasBaseline = before.getString("text") != null;
    JsonObject req = new JsonObject().put("url", url);
    if (hasBaseline && FetchRequest.usableValidator(before.getString("etag"))) {
      req.put("ifNoneMatch", before.getString("etag"));
    }
    if (hasBaseline && FetchRequest.usableValidator(before.getString("lastModified"))) {
      req.put("ifModifiedSince", before.getString("lastModified"));
    }
    JsonObject state = new JsonObject().put("position", before.getInteger("position"))
        .put("etag", before.getString("etag")).put("lastModified", before.getString("lastModified"));
    return MemberRouter.<JsonObject>request(vertx, Bus.FETCH, req, fetchDelivery)
        .map(m -> FetchResult.from(m.body()))
        .compose(result -> compare(spec, before, state, new Observed(result.status(), result.finalUrl(),
            result.contentType(), result.body(), header(result, "etag"), header(result, "last-modified"),
            () -> keep(spec, result))))
        .recover(err -> {
          String error = Failure.of(FailureReplies.status(err), err.getMessage()).slug;
          state.put("error", error).put("status", before.getInteger("status"));
          return Future.succeededFuture(new JsonObject().put("url", url).put("error", error).put("state", state));
        });
  }

  private Future<JsonObject> compare(JsonObject spec, JsonObject before, JsonObject state, Observed result) {
    String url = before.getString("url");
    int status = result.status();
    state.put("status", status);
    JsonObject outcome = new JsonObject().put("url", url).put("status", status).put("state", state);
    boolean hasBaseline = before.getString("text") != null;
    boolean wasRemoved = "removed".equals(before.getString("changeStatus"));
    if (status == 304 && hasBaseline) {
      state.put("changeStatus", "same");
      return Future.succeededFuture(outcome.put("changeStatus", "same").put("distance", 0));
    }
    if (status == 404 || status == 410) {
      if (wasRemoved) {
        state.put("changeStatus", "same").put("etag", null).put("lastModified", null);
        return Future.succeededFuture(outcome.put("changeStatus", "same"));
      }
      return removed(before, state, status, result.keep());
    }
    if (status < 200 || status >= 300) {
      String error = "the page answered " + status;
      state.put("error", error).put("status", before.getInteger("status"));
      return Future.succeededFuture(outcome.put("error", error));
    }
    state.put("etag", result.etag()).put("lastModified", result.lastModified());
    JsonObject options = new JsonObject().put("include", spec.getString("include")).put("exclude", spec.getString("exclude"));
    return extraction.watch(result.finalUrl(), result.contentType(), result.body(), options).compose(now -> {
      String text = now.getString("text");
      long simhash = now.getLong("simhash");
      if (hasBaseline) {
        int distance = Long.bitCount(simhash ^ before.getLong("simhash"));
        outcome.put("distance", distance);
        if (text.equals(before.getString("text")) || distance <= spec.getInteger("threshold")) {
          state.put("changeStatus", "same");
          return Future.succeededFuture(outcome.put("changeStatus", "same"));
        }
      }
      String change = hasBaseline || wasRemoved ? "changed" : "new";
      state.put("changeStatus", change).put("replaces", true).put("text", text).put("simhash", simhash)
          .put("links", now.getJsonArray("links"));
      return diff(hasBaseline ? before.getString("text") : "", text,
          hasBaseline ? before.getJsonArray("links") : new JsonArray(), now.getJsonArray("links"))
          .compose(d -> result.keep().get().map(pageId -> outcome.put("changeStatus", change).put("pageId", pageId)
              .put("change", d.put("url", url).put("changeStatus", change).put("status", status)
                  .put("distance", outcome.getInteger("distance")).put("pageId", pageId))));
    });
  }

  /**
   * A URL gone: a 404 or 410 ({@code status}), or, for a site watch, a page its crawl no longer reached (no status,
   * nothing stored). The version records the text that went, as a diff to nothing.
   */
  private Future<JsonObject> removed(JsonObject before, JsonObject state, Integer status,
                                     Supplier<Future<Long>> keep) {
    String url = before.getString("url");
    state.put("changeStatus", "removed").put("etag", null).put("lastModified", null).put("replaces", true)
        .put("status", status);
    JsonObject outcome = new JsonObject().put("url", url).put("status", status).put("state", state);
    return diff(before.getString("text"), "", before.getJsonArray("links"), new JsonArray())
        .compose(d -> keep.get().map(pageId -> outcome.put("changeStatus", "removed").put("pageId", pageId)
            .put("change", d.put("url", url).put("changeStatus", "removed").put("status", status)
                .put("pageId", pageId))));
  }

  /**
   * Stores a new version as any fetched page is stored ({@link Bus#PAGES_SAVE}, under its fetch's id), so that the
   * URL's history is in {@code GET /v1/pages} and search finds it; answers the page's id. A page that cannot be
   * stored fails the URL's check: its version is not recorded, and the next run finds it again.
   */
  private Future<Long> keep(JsonObject spec, FetchResult result) {
    return extraction.toStore(result, ContentFormats.from(spec), null)
        .compose(extracted -> store(Bus.PAGES_SAVE, SavePage.of(result, extracted).toJson()))
        .map(saved -> saved.getJsonObject("page").getLong("id"));
  }

  private static String header(FetchResult result, String name) {
    Object value = result.headers() == null ? null : result.headers().getValue(name);
    return value instanceof String s && FetchRequest.usableValidator(s) ? s : null;
  }

  /**
   * {@code {"diff", "diffTruncated", "addedLinks", "removedLinks"}}: a unified diff of the texts' lines (one line of
   * context), cut at {@code watches.maxDiffChars}, and the links only one side has. On a worker: Myers' diff of two
   * long texts is CPU work.
   */
  private Future<JsonObject> diff(String before, String after, JsonArray linksBefore, JsonArray linksAfter) {
    int maxChars = settings.maxDiffChars();
    int maxLinks = settings.maxLinksInDiff();
    return vertx.executeBlocking(() -> {
      List<String> a = before == null || before.isEmpty() ? List.of() : List.of(before.split("\n", -1));
      List<String> b = after == null || after.isEmpty() ? List.of() : List.of(after.split("\n", -1));
      Patch<String> patch = DiffUtils.diff(a, b);
      List<String> unified = UnifiedDiffUtils.generateUnifiedDiff("before", "after", a, patch, 1);
      String diff = String.join("\n", unified);
      boolean truncated = diff.length() > maxChars;
      return new JsonObject().put("diff", truncated ? diff.substring(0, maxChars) : diff)
          .put("diffTruncated", truncated)
          .put("addedLinks", onlyIn(linksAfter, linksBefore, maxLinks))
          .put("removedLinks", onlyIn(linksBefore, linksAfter, maxLinks));
    }, false);
  }

  private static JsonArray onlyIn(JsonArray these, JsonArray others, int max) {
    Set<Object> other = new LinkedHashSet<>(others == null ? List.of() : others.getList());
    JsonArray out = new JsonArray();
    for (Object link : these == null ? List.of() : these.getList()) {
      if (out.size() == max) {
        break;
      }
      if (!other.contains(link)) {
        out.add(link);
      }
    }
    return out;
  }

  private Future<JsonObject> store(String address, JsonObject body) {
    return MemberRouter.<JsonObject>request(vertx, address, body, storeDelivery).map(Message::body);
  }
}
