package io.fetchbus.fetch;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.fetchbus.bus.FetchRequest;
import io.fetchbus.bus.FetchResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Recent fetch results by canonical URL, bounded in bytes and by TTL, shared by every fetch verticle instance
 * of one Vert.x instance. An entry is a future, so a request for a URL whose fetch is in flight joins that
 * fetch (single flight) instead of starting another; failures are never kept.
 */
final class FetchCache implements Shareable {
  /** Per-entry overhead beyond the body: the record, its headers and the map entry. */
  private static final int ENTRY_OVERHEAD = 1024;

  private final AsyncCache<String, FetchResult> cache;
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder joins = new LongAdder();

  private FetchCache(long maxBytes, long ttlSeconds) {
    cache = Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .weigher((String key, FetchResult r) -> (int) Math.min(Integer.MAX_VALUE, r.bytes() + ENTRY_OVERHEAD + key.length()))
        .expireAfterWrite(Duration.ofSeconds(ttlSeconds))
        .buildAsync();
  }

  /** The cache of this Vert.x instance, created by the first fetch verticle that asks. */
  static FetchCache shared(Vertx vertx, FetchSettings s) {
    return vertx.sharedData().<String, FetchCache>getLocalMap("fetchbus.fetch")
        .computeIfAbsent("cache", k -> new FetchCache(s.cacheMaxBytes(), s.cacheTtlSeconds()));
  }

  /**
   * Answers from the cache when it may (a fresh enough copy, or a fetch of the URL in flight), otherwise runs
   * {@code fetch}. The future completes on {@code context}, whichever event loop ran the fetch.
   */
  Future<FetchResult> get(FetchRequest req, Context context, Supplier<Future<FetchResult>> fetch) {
    String key = req.url().key();
    CompletableFuture<FetchResult> existing = cache.getIfPresent(key);
    if (existing != null && usable(existing, req.maxAgeSeconds())) {
      count(existing);
      return Future.fromCompletionStage(existing, context).map(r -> r.withFromCache(true));
    }
    if (req.onlyIfCached()) {
      misses.increment();
      return Future.failedFuture(io.fetchbus.bus.Failure.NOT_FOUND.exception("no cached copy of " + req.url()
          + (req.maxAgeSeconds() == null ? "" : " at most " + req.maxAgeSeconds() + " s old")));
    }
    CompletableFuture<FetchResult> mine = new CompletableFuture<>();
    CompletableFuture<FetchResult> winner = cache.asMap().compute(key,
        (k, current) -> current != null && usable(current, req.maxAgeSeconds()) ? current : mine);
    if (winner != mine) {
      count(winner);
      return Future.fromCompletionStage(winner, context).map(r -> r.withFromCache(true));
    }
    misses.increment();
    fetch.get().onComplete(ar -> {
      if (ar.succeeded()) {
        mine.complete(ar.result());
      } else {
        mine.completeExceptionally(ar.cause());
      }
    });
    return Future.fromCompletionStage(mine, context);
  }

  JsonObject stats() {
    return new JsonObject()
        .put("hits", hits.sum())
        .put("misses", misses.sum())
        .put("joins", joins.sum())
        .put("entries", cache.synchronous().estimatedSize())
        .put("bytes", cache.synchronous().policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L));
  }

  private void count(CompletableFuture<FetchResult> entry) {
    (entry.isDone() ? hits : joins).increment();
  }

  /** A fetch in flight is as fresh as it gets; a finished one must be younger than the asked maximum age. */
  private static boolean usable(CompletableFuture<FetchResult> entry, Long maxAgeSeconds) {
    if (!entry.isDone()) {
      return true;
    }
    if (entry.isCompletedExceptionally() || maxAgeSeconds == null) {
      return false;
    }
    return entry.join().ageSeconds(Instant.now()) <= maxAgeSeconds;
  }
}
