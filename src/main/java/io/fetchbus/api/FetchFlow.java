package io.fetchbus.api;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.Failures;
import io.fetchbus.bus.FetchRequest;
import io.fetchbus.bus.FetchResult;
import io.fetchbus.bus.Page;
import io.fetchbus.bus.PageQuery;
import io.fetchbus.bus.SavePage;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code POST /v1/fetch} does, as bus calls: a fresh enough copy from the fetch cache, else from Postgres,
 * else fetch, extract and store. A failed fetch is stored too, as a page with its error.
 */
final class FetchFlow {
  private static final Logger LOG = LoggerFactory.getLogger(FetchFlow.class);
  /** Failures that describe the upstream and so are worth recording as a page. */
  private static final Set<Integer> RECORDED = Set.of(403, 413, 502, 504);

  /** A page and whether this request created it. */
  record Served(Page page, boolean created) {}

  private final EventBus bus;
  private final DeliveryOptions fetchDelivery;
  private final DeliveryOptions extractDelivery;
  private final DeliveryOptions storeDelivery;

  FetchFlow(EventBus bus, long fetchTimeoutMs, long storeTimeoutMs) {
    this.bus = bus;
    // The fetch enforces its own deadline; the margin lets its precise 504 arrive before the bus gives up.
    this.fetchDelivery = new DeliveryOptions().setSendTimeout(fetchTimeoutMs + 5_000);
    this.extractDelivery = new DeliveryOptions().setSendTimeout(30_000);
    this.storeDelivery = new DeliveryOptions().setSendTimeout(storeTimeoutMs);
  }

  Future<Served> serve(FetchRequest req) {
    if (req.maxAgeSeconds() == null) {
      return fetchAndStore(req);
    }
    return fetch(req.onlyIfCached(true))
        .compose(this::pageFor)
        .recover(err -> Failure.NOT_FOUND.is(err) ? storedCopy(req) : Future.failedFuture(err))
        .recover(err -> Failure.NOT_FOUND.is(err) ? fetchAndStore(req.withoutMaxAge()) : Future.failedFuture(err));
  }

  Future<JsonObject> storeRequest(String address, JsonObject body) {
    return bus.<JsonObject>request(address, body, storeDelivery).map(m -> m.body());
  }

  private Future<Served> fetchAndStore(FetchRequest req) {
    Instant startedAt = Instant.now();
    return fetch(req)
        .recover(err -> recordFailure(req, startedAt, err))
        .compose(this::pageFor);
  }

  private Future<FetchResult> fetch(FetchRequest req) {
    return bus.<JsonObject>request(Bus.FETCH, req.toJson(), fetchDelivery).map(m -> FetchResult.from(m.body()));
  }

  /** The page of a fetch result: already stored (a cache hit, or a fetch another request started), or stored now. */
  private Future<Served> pageFor(FetchResult result) {
    if (!result.fromCache()) {
      return store(result);
    }
    return storeRequest(Bus.PAGES_GET, new JsonObject().put("fetchId", result.fetchId()))
        .map(json -> new Served(Page.from(json).withFromCache(true), false))
        .recover(err -> Failure.NOT_FOUND.is(err) ? store(result) : Future.failedFuture(err));
  }

  private Future<Served> storedCopy(FetchRequest req) {
    return storeRequest(Bus.PAGES_FIND, PageQuery.freshCopy(req.url(), req.maxAgeSeconds()).toJson()).compose(json -> {
      var items = json.getJsonArray("items");
      if (items.isEmpty()) {
        return Future.failedFuture(Failure.NOT_FOUND.exception("no stored copy of " + req.url()));
      }
      return Future.succeededFuture(new Served(Page.from(items.getJsonObject(0)).withFromCache(true), false));
    });
  }

  private Future<Served> store(FetchResult result) {
    return extractTitle(result)
        .compose(title -> storeRequest(Bus.PAGES_SAVE, SavePage.of(result, title).toJson()))
        .map(json -> new Served(Page.from(json.getJsonObject("page")).withFromCache(result.fromCache()),
            json.getBoolean("created")));
  }

  /** Extraction is best effort: a page whose HTML cannot be read is still stored, without a title. */
  private Future<String> extractTitle(FetchResult result) {
    JsonObject req = new JsonObject().put("url", result.finalUrl()).put("contentType", result.contentType())
        .put("body", result.body());
    return bus.<JsonObject>request(Bus.EXTRACT, req, extractDelivery)
        .map(m -> m.body().getString("title"))
        .otherwise(err -> {
          LOG.warn("extracting {} failed, storing it without a title: {}", result.finalUrl(), err.getMessage());
          return null;
        });
  }

  /** Stores the failed attempt and fails with the original error, pointing at the stored page when that worked. */
  private <T> Future<T> recordFailure(FetchRequest req, Instant startedAt, Throwable err) {
    if (!RECORDED.contains(Failures.status(err))) {
      return Future.failedFuture(err);
    }
    long elapsedMs = Instant.now().toEpochMilli() - startedAt.toEpochMilli();
    SavePage failed = SavePage.failed(req.url().toString(), startedAt, elapsedMs, err.getMessage());
    return storeRequest(Bus.PAGES_SAVE, failed.toJson())
        .transform(saved -> saved.succeeded()
            ? Future.failedFuture(new RecordedFailure(err, saved.result().getJsonObject("page").getLong("id")))
            : Future.failedFuture(err));
  }
}
