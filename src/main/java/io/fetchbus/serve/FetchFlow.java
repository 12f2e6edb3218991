package io.fetchbus.serve;

import io.fetchbus.serve.PageSaves.Served;
import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.bus.Extraction;
import io.fetchbus.bus.FailureReplies;
import io.fetchbus.bus.FetchRequest;
import io.fetchbus.bus.FetchResult;
import io.fetchbus.bus.HandedOverJson;
import io.fetchbus.bus.ContentFormats;
import io.fetchbus.bus.Page;
import io.fetchbus.bus.PageQuery;
import io.fetchbus.bus.SavePage;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Set;

/**
 * What {@code POST /v1/fetch} does, as bus calls: a fresh enough copy from the fetch cache, else from Postgres,
 * else fetch, extract and store. A failed fetch is stored too, as a page with its error.
 */
public final class FetchFlow {
  /** FailureReplies that describe the upstream and so are worth recording as a page. */
  private static final Set<Integer> RECORDED = Set.of(403, 413, 502, 504);

  private final Vertx vertx;
  private final Context context;
  private final PageSaves saves;
  private final PageRecords records;
  private final DeliveryOptions fetchDelivery;
  private final Extraction extraction;
  private final String requestId;
  private final DeliveryOptions storeDelivery;
  /** A save, with the page's body and text, goes to a store of this JVM without a copy. */
  private final DeliveryOptions saveDelivery;

  public FetchFlow(Vertx vertx, Context context, PageSaves saves, PageRecords records, Extraction extraction,
            long fetchTimeoutMs, long storeTimeoutMs) {
    // The fetch enforces its own deadline; the margin lets its precise 504 arrive before the bus gives up. A node
    // that runs the fetch or the store role sends to its own verticles, another to a live member (MemberRouter).
    this(vertx, context, saves, records, extraction, null,
        new DeliveryOptions().setSendTimeout(fetchTimeoutMs + 5_000), new DeliveryOptions().setSendTimeout(storeTimeoutMs));
    HandedOverJson.register(vertx);
  }

  private FetchFlow(Vertx vertx, Context context, PageSaves saves, PageRecords records, Extraction extraction,
                    String requestId, DeliveryOptions fetchDelivery, DeliveryOptions storeDelivery) {
    this.vertx = vertx;
    this.context = context;
    this.saves = saves;
    this.records = records;
    this.extraction = extraction;
    this.requestId = requestId;
    this.fetchDelivery = fetchDelivery;
    this.storeDelivery = storeDelivery;
    this.saveDelivery = HandedOverJson.handOver(storeDelivery);
  }

  /** The same flow, with every bus message it sends carrying {@code requestId} for the verticles' logs. */
  public FetchFlow forRequest(String requestId) {
    return new FetchFlow(vertx, context, saves, records, extraction, requestId, tagged(fetchDelivery, requestId),
        tagged(storeDelivery, requestId));
  }

  private static DeliveryOptions tagged(DeliveryOptions options, String requestId) {
    return new DeliveryOptions(options).addHeader(Bus.REQUEST_ID, requestId);
  }

  /** The page for {@code req}; a page stored now is stored with what {@code asked} needs (see {@link ContentFormats#toStore}). */
  public Future<Served> serve(FetchRequest req, Set<String> asked) {
    if (req.maxAgeSeconds() == null) {
      return remembered(req, fetchAndStore(req, asked));
    }
    // The node's hot records answer first: no bus hop, no body, no query.
    Page hot = records.fresh(req);
    if (hot != null) {
      return Future.succeededFuture(new Served(hot.withFromCache(true), false));
    }
    return remembered(req, fetch(req.onlyIfCached(true))
        .compose(result -> pageOf(result, asked))
        .recover(err -> !Failure.NOT_FOUND.is(err) ? Future.failedFuture(err) : fromStore(req, asked)));
  }

  /** Whatever answered the request, from the upstream or from PostgreSQL, answers the next one from memory. */
  private Future<Served> remembered(FetchRequest req, Future<Served> served) {
    return served.onSuccess(s -> records.remember(req, s.page()));
  }

  /**
   * The memory cache had nothing: the newest stored copy answers if it is fresh enough. If it is not but has an
   * ETag or Last-Modified, the upstream is asked whether it changed: a 304 makes that copy current again without
   * moving its body, anything else is a new page. One query serves both questions.
   */
  private Future<Served> fromStore(FetchRequest req, Set<String> asked) {
    return storeRequest(Bus.PAGES_FIND, PageQuery.newestCopy(req.url()).toJson()).compose(json -> {
      var items = json.getJsonArray("items");
      Page stale = items.isEmpty() ? null : Page.from(items.getJsonObject(0));
      if (stale != null && !stale.fetchedAt().plusSeconds(req.maxAgeSeconds()).isBefore(Instant.now())) {
        return Future.succeededFuture(new Served(stale.withFromCache(true), false));
      }
      String etag = stale == null || stale.headers() == null ? null : stale.headers().getString("etag");
      String lastModified = stale == null || stale.headers() == null ? null : stale.headers().getString("last-modified");
      etag = FetchRequest.usableValidator(etag) ? etag : null;
      lastModified = FetchRequest.usableValidator(lastModified) ? lastModified : null;
      if (etag == null && lastModified == null) {
        return fetchAndStore(req.withoutMaxAge(), asked);
      }
      Instant startedAt = Instant.now();
      return fetch(req.revalidating(etag, lastModified))
          .recover(err -> recordFailure(req, startedAt, err))
          // A 304 counts only from the URL itself: validators are never sent to a redirect target.
          .compose(result -> result.status() != 304 || !result.finalUrl().equals(result.url()) ? pageOf(result, asked)
              : storeRequest(Bus.PAGES_REVALIDATED, new JsonObject().put("id", stale.id()))
                  .map(page -> new Served(Page.from(page).withFromCache(true), false, true)));
    });
  }

  public Future<JsonObject> storeRequest(String address, JsonObject body) {
    return storeRequest(address, body, storeDelivery);
  }

  private Future<JsonObject> storeRequest(String address, JsonObject body, DeliveryOptions options) {
    return MemberRouter.<JsonObject>request(vertx, address, body, options).map(m -> m.body());
  }

  private Future<Served> fetchAndStore(FetchRequest req, Set<String> asked) {
    Instant startedAt = Instant.now();
    return fetch(req)
        .recover(err -> recordFailure(req, startedAt, err))
        .compose(result -> pageOf(result, asked));
  }

  private Future<FetchResult> fetch(FetchRequest req) {
    return MemberRouter.<JsonObject>request(vertx, Bus.FETCH, req.toJson(), fetchDelivery).map(m -> FetchResult.from(m.body()));
  }

  /**
   * The page of a fetch result, stored once whoever asks: a new fetch is stored now; a cache hit or a joined
   * fetch was usually stored already, else it is stored now (saving is idempotent per fetch id).
   */
  private Future<Served> pageOf(FetchResult result, Set<String> asked) {
    Page known = result.fromCache() ? saves.known(result.fetchId()) : null;
    if (known != null) {
      return Future.succeededFuture(new Served(known.withFromCache(true), false));
    }
    return saves.once(result.fetchId(), context, () -> !result.fromCache() ? store(result, asked)
        : storeRequest(Bus.PAGES_GET, new JsonObject().put("fetchId", result.fetchId()))
            .map(json -> new Served(Page.from(json), false))
            .recover(err -> Failure.NOT_FOUND.is(err) ? store(result, asked) : Future.failedFuture(err)))
        .map(served -> new Served(served.page().withFromCache(result.fromCache()), served.created()));
  }

  private Future<Served> store(FetchResult result, Set<String> asked) {
    return extraction.toStore(result, asked, requestId)
        .compose(extracted -> storeRequest(Bus.PAGES_SAVE, SavePage.of(result, extracted).toJson(), saveDelivery))
        .map(json -> new Served(Page.from(json.getJsonObject("page")), json.getBoolean("created")));
  }

  /**
   * Stores a failed attempt that the fetch verticle reported about the upstream, then fails with the original
   * error, pointing at the stored page when that worked. Our own failures (bus timeouts, limits) are not pages.
   */
  private <T> Future<T> recordFailure(FetchRequest req, Instant startedAt, Throwable err) {
    if (!(err instanceof ReplyException reply) || reply.failureType() != ReplyFailure.RECIPIENT_FAILURE
        || !RECORDED.contains(FailureReplies.status(err))) {
      return Future.failedFuture(err);
    }
    long elapsedMs = Instant.now().toEpochMilli() - startedAt.toEpochMilli();
    SavePage failed = SavePage.failed(req.url().toString(), startedAt, elapsedMs,
        Failure.detail(reply.failureCode(), reply.getMessage()), Failure.of(reply.failureCode(), reply.getMessage()).slug);
    return storeRequest(Bus.PAGES_SAVE, failed.toJson())
        .transform(saved -> saved.succeeded()
            ? Future.failedFuture(new RecordedFailure(err, saved.result().getJsonObject("page").getLong("id")))
            : Future.failedFuture(err));
  }
}
