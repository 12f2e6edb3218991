package io.fetchbus.crawl;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.ContentFormats;
import io.fetchbus.bus.Extraction;
import io.fetchbus.bus.FailureReplies;
import io.fetchbus.bus.FetchResult;
import io.fetchbus.bus.HandedOverJson;
import io.fetchbus.bus.MediaTypes;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.bus.SavePage;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FirecrawlDocument;
import io.fetchbus.webhook.WebhookSender;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The work on one leased frontier entry: a page (fetched, extracted, stored with the links the job follows from it)
 * or the job's sitemaps entry (their URLs join the frontier). The result goes back under the lease, retried while
 * the store is unreachable and the lease lasts; a fetch that gave no page gives the entry back ({@link GiveBack}).
 * The crawl verticle leases the entries and keeps the books; this holds no state of its own.
 */
final class EntryWorker {
  private static final Logger LOG = LoggerFactory.getLogger(EntryWorker.class);

  private final Vertx vertx;
  private final CrawlSettings settings;
  private final Sitemaps sitemaps;
  private final Extraction extraction;
  private final WebhookSender webhooks;
  private final DeliveryOptions fetchDelivery;
  private final DeliveryOptions storeDelivery;
  /** A completion with its page, body and text, goes to a store of this JVM without a copy. */
  private final DeliveryOptions pageDelivery;
  /** Whether the verticle is stopping: then a result the store cannot take now is not retried. */
  private final BooleanSupplier stopping;
  /** The hosts of entries this node refused itself, which its claims leave to the other nodes for a while. */
  private final RefusedHosts refused;

  EntryWorker(Vertx vertx, CrawlSettings settings, Sitemaps sitemaps, Extraction extraction, WebhookSender webhooks,
              DeliveryOptions fetchDelivery, DeliveryOptions storeDelivery, BooleanSupplier stopping,
              RefusedHosts refused) {
    HandedOverJson.register(vertx);
    this.vertx = vertx;
    this.settings = settings;
    this.sitemaps = sitemaps;
    this.extraction = extraction;
    this.webhooks = webhooks;
    this.fetchDelivery = fetchDelivery;
    this.storeDelivery = storeDelivery;
    this.pageDelivery = HandedOverJson.handOver(storeDelivery);
    this.stopping = stopping;
    this.refused = refused;
  }

  /** Works {@code lease} of the job {@code plan} describes, until its result is back in the store or given back. */
  Future<Void> work(Lease lease, JobPlan plan) {
    return Sitemaps.isEntry(lease.urlKey()) ? sitemaps(lease, plan) : page(lease, plan);
  }

  /**
   * Fetches, extracts and stores one page with its links; a failed fetch, or an extraction that could not be done
   * now (its links are the crawl's next pages), gives the entry back or ends it.
   */
  private Future<Void> page(Lease lease, JobPlan plan) {
    return fetch(lease, plan).compose(
        result -> GiveBack.notNow(result)
            ? giveBack(lease, GiveBack.afterNotNow(result, lease.attempts(), settings, System.currentTimeMillis()))
            : extraction.toStoreOrFail(result, plan.formats()).compose(
                extracted -> complete(lease, plan, result, extracted),
                err -> giveBack(lease, err)),
        err -> giveBack(lease, err));
  }

  private Future<FetchResult> fetch(Lease lease, JobPlan plan) {
    JsonObject req = new JsonObject().put("url", lease.url());
    if (!plan.obeyRobots()) {
      req.put("obeyRobots", false);
    }
    if (plan.maxAgeSeconds() != null) {
      req.put("maxAgeSeconds", plan.maxAgeSeconds());
    }
    return MemberRouter.<JsonObject>request(vertx, Bus.FETCH, req, fetchDelivery).map(m -> FetchResult.from(m.body()));
  }

  /**
   * Stores the page with the links the job follows from it; the store adds them one level below the entry's
   * depth as it is by then (a shorter path may have lowered it since the lease), unless that is past maxDepth.
   */
  private Future<Void> complete(Lease lease, JobPlan plan, FetchResult result, JsonObject extracted) {
    Future<LinkSelection> links = Future.succeededFuture(new LinkSelection(new JsonArray(), new JsonArray()));
    if (plan.sendsLinksAt(lease.depth())) {
      JsonArray found = extracted.getJsonArray("links", new JsonArray());
      List<String> urls = new ArrayList<>(found.size());
      for (int i = 0; i < found.size(); i++) {
        urls.add(found.getJsonObject(i).getString("url"));
      }
      // The job's patterns are the client's: matching them, bounded, is work for a worker thread.
      links = vertx.executeBlocking(() -> LinkSelection.of(plan.scope(), urls, settings.maxLinksPerPage()), false);
    }
    // The page keeps the id of the fetch this crawl made, so that a POST /v1/fetch answered from the fetch cache with
    // that fetch finds this page instead of storing it again. A fetch joined from another caller (fromCache) is not
    // ours: its page is theirs, and the crawl stores one of its own under a new id.
    JsonObject json = SavePage.of(result, extracted).toJson();
    if (result.fromCache()) {
      json.putNull("fetchId");
    }
    return links.compose(selected -> {
      JsonObject req = lease.ref().put("page", json).put("links", selected.followed())
          .put("undecided", selected.undecided()).put("undecidedDepth", lease.depth() + 1);
      long deadline = System.currentTimeMillis() + settings.leaseMs();
      // A caller that joined our fetch may have stored its page under our fetch id first: then a new id is ours.
      // Handed over: once sent, neither the request nor the page is changed (a conflict's retry sends new ones).
      return storeUntilLeaseEnds(Bus.FRONTIER_COMPLETE, req, deadline, pageDelivery)
          .recover(err -> !Failure.CONFLICT.is(err) || json.getValue("fetchId") == null ? Future.failedFuture(err)
              : storeUntilLeaseEnds(Bus.FRONTIER_COMPLETE,
                  req.copy().put("page", json.copy().putNull("fetchId")), deadline, pageDelivery));
    })
        .onSuccess(stored -> webhooks.page(lease.jobId(), stored.getJsonObject("page"),
            () -> firecrawlDocument(stored.getJsonObject("page"), plan, result, extracted)))
        .mapEmpty();
  }

  /**
   * The stored page as Firecrawl's document, with the content the job asked for, for a webhook in Firecrawl's
   * format: made from what this verticle has in hand, never read back from the store.
   */
  private static JsonObject firecrawlDocument(JsonObject page, JobPlan plan, FetchResult result, JsonObject extracted) {
    JsonObject withContent = page.copy();
    if (plan.formats().contains(ContentFormats.MARKDOWN)) {
      withContent.put("markdown", extracted.getString("markdown", ""));
    }
    if (plan.formats().contains("links")) {
      withContent.put("links", extracted.getJsonArray("links", new JsonArray()));
    }
    if (plan.formats().contains("html") && result.body() != null) {
      withContent.put("html", result.body().toString(
          java.util.Objects.requireNonNullElse(MediaTypes.charset(result.contentType()), "UTF-8")));
    }
    return FirecrawlDocument.of(withContent, page.getString("url"), FirecrawlDocument.formatsOf(plan.formats()));
  }

  /** The job's sitemaps entry: their URLs join the frontier at depth 1, and the entry leaves it. */
  private Future<Void> sitemaps(Lease lease, JobPlan plan) {
    Future<List<String>> found = plan.takesSitemapUrls() ? sitemaps.discover(lease.url(), plan.obeyRobots())
        : Future.succeededFuture(List.of());
    // Filtering up to 50,000 URLs through the job's patterns is work for a worker thread.
    return found
        .compose(urls -> vertx.executeBlocking(() -> LinkSelection.of(plan.scope(), urls, Sitemaps.MAX_URLS), false))
        .compose(links -> storeUntilLeaseEnds(Bus.FRONTIER_COMPLETE, lease.ref().putNull("page")
            .put("links", links.followed()).put("undecided", links.undecided()).put("linkDepth", 1),
            System.currentTimeMillis() + settings.leaseMs()))
        .mapEmpty();
  }

  /** A fetch that did not give a page: see {@link GiveBack#afterFailure} for what becomes of the entry. */
  private Future<Void> giveBack(Lease lease, Throwable err) {
    return giveBack(lease, GiveBack.afterFailure(err, lease.attempts(), settings));
  }

  private Future<Void> giveBack(Lease lease, GiveBack verdict) {
    LOG.debug("crawl entry {} of job {} given back ({}): {}", lease.url(), lease.jobId(), verdict.outcome(),
        verdict.error());
    boolean notHere = "requeue".equals(verdict.outcome());
    // The entry is due again after its delay; the node's claims skip its host until two polls later, so that
    // another node, one that can fetch it, claims it first. Set before it is queued again (no claim of ours
    // takes it back meanwhile) and again once the store answered (counted from then).
    long skipMs = verdict.delayMs() + 2 * settings.pollMs();
    if (notHere) {
      refused.skip(lease.hostKey(), skipMs);
    }
    return storeUntilLeaseEnds(Bus.FRONTIER_RETRY, verdict.request(lease.ref(), settings.maxAttempts()),
        System.currentTimeMillis() + settings.leaseMs())
        .onComplete(stored -> {
          if (notHere) {
            refused.skip(lease.hostKey(), skipMs);
          }
        })
        .mapEmpty();
  }

  /**
   * Writes a result back, trying again while the store is unreachable (Postgres restarting, say) for as long as
   * the lease lasts: after that the entry is someone else's and the result is dropped.
   */
  private Future<JsonObject> storeUntilLeaseEnds(String address, JsonObject req, long deadline) {
    return storeUntilLeaseEnds(address, req, deadline, storeDelivery);
  }

  private Future<JsonObject> storeUntilLeaseEnds(String address, JsonObject req, long deadline,
                                                 DeliveryOptions options) {
    return store(address, req, options).recover(err -> {
      int status = FailureReplies.status(err);
      boolean transientFailure = status == 503 || status == 504 || status == 500;
      if (!transientFailure || stopping.getAsBoolean() || System.currentTimeMillis() + 1_000 > deadline) {
        return Future.failedFuture(err);
      }
      return vertx.timer(1_000).compose(t -> storeUntilLeaseEnds(address, req, deadline, options));
    });
  }

  private Future<JsonObject> store(String address, JsonObject body, DeliveryOptions options) {
    return MemberRouter.<JsonObject>request(vertx, address, body, options).map(Message::body);
  }
}
