package io.fetchbus.fetch;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FetchRequest;
import io.fetchbus.bus.FetchResult;
import io.fetchbus.bus.SingleFlight;
import io.fetchbus.bus.WebUrl;
import io.fetchbus.ops.Meters;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Recent fetch results by canonical URL, bounded in bytes and by TTL (Caffeine), plus the fetches in flight, so
 * that a request for a URL being fetched joins that fetch (single flight) instead of starting another. Shared
 * by every fetch verticle instance of one Vert.x instance; failures are never kept.
 */
final class FetchCache implements Shareable, Meters.CacheStats {
  /** Per-entry overhead beyond the body and the HTTP heads kept for WARC: the record, its headers and the map entry. */
  private static final int ENTRY_OVERHEAD = 1024;

  private final Cache<String, FetchResult> results;
  private final long maxBytes;
  /** The fetches in flight, one per URL; bounded by the fetches in flight. */
  private final SingleFlight<String, FetchResult> inFlight = new SingleFlight<>();
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder joins = new LongAdder();

  private FetchCache(long maxBytes, long ttlSeconds) {
    this.maxBytes = maxBytes;
    results = Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .weigher((String key, FetchResult r) -> (int) Math.min(Integer.MAX_VALUE, r.bytes() + ENTRY_OVERHEAD + key.length()
            + (r.exchange() == null ? 0 : 2L * (r.exchange().request().length() + r.exchange().response().length()))))
        .expireAfterWrite(Duration.ofSeconds(ttlSeconds))
        .build();
  }

  /** The cache of this Vert.x instance, created (and published in the metrics) by the first fetch verticle that asks. */
  static FetchCache shared(Vertx vertx, FetchSettings s) {
    return vertx.sharedData().<String, FetchCache>getLocalMap("fetchbus.fetch").computeIfAbsent("cache", k -> {
      FetchCache cache = new FetchCache(s.cacheMaxBytes(), s.cacheTtlSeconds());
      Meters.of(vertx).cache(cache);
      return cache;
    });
  }

  /**
   * Answers from the cache when it may (a copy at most {@code maxAgeSeconds} old, or a fetch of the URL in
   * flight), otherwise runs {@code fetch}. The future completes on {@code context}, whichever event loop fetched.
   */
  Future<FetchResult> get(FetchRequest req, Context context, Supplier<Future<FetchResult>> fetch) {
    // A copy fetched without looking at robots.txt must not answer a request that obeys it.
    String key = req.obeyRobots() ? req.url().key() : req.url().key() + " (robots ignored)";
    if (req.maxAgeSeconds() != null || req.onlyIfCached()) {
      FetchResult cached = results.getIfPresent(key);
      if (cached != null && (req.maxAgeSeconds() == null || cached.ageSeconds(Instant.now()) <= req.maxAgeSeconds())) {
        hits.increment();
        return Future.succeededFuture(cached.withFromCache(true));
      }
    }
    if (req.onlyIfCached() && !inFlight.isRunning(key)) {
      misses.increment();
      return Future.failedFuture(Failure.NOT_FOUND.exception("no cached copy of " + req.url()
          + (req.maxAgeSeconds() == null ? "" : " at most " + req.maxAgeSeconds() + " s old")));
    }
    // Cached before anyone sees the result, so no request can fall between the fetch and the cache.
    SingleFlight.Flight<FetchResult> flight = inFlight.run(key, context, fetch, result -> results.put(key, result));
    (flight.joined() ? joins : misses).increment();
    return flight.joined() ? flight.result().map(r -> r.withFromCache(true)) : flight.result();
  }

  /**
   * The page of the fetch {@code fetchId} of {@code url} was deleted: if that fetch is the copy held here, it goes
   * too, so the next fetch of the URL goes upstream; a newer copy stays (a URL that does not parse was never cached).
   */
  void forget(String url, String fetchId) {
    String key;
    try {
      key = WebUrl.parse("url", url).key();
    } catch (RuntimeException e) {
      return;
    }
    for (String k : new String[] {key, key + " (robots ignored)"}) {
      results.asMap().computeIfPresent(k, (kk, held) -> fetchId != null && fetchId.equals(held.fetchId()) ? null : held);
    }
  }

  JsonObject stats() {
    return new JsonObject()
        .put("hits", hits())
        .put("misses", misses())
        .put("joins", joins())
        .put("inFlight", inFlight.size())
        .put("entries", entries())
        .put("bytes", bytes())
        .put("maxBytes", maxBytes);
  }

  @Override
  public long hits() {
    return hits.sum();
  }

  @Override
  public long misses() {
    return misses.sum();
  }

  @Override
  public long joins() {
    return joins.sum();
  }

  @Override
  public long entries() {
    return results.estimatedSize();
  }

  @Override
  public long bytes() {
    return results.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
  }
}
