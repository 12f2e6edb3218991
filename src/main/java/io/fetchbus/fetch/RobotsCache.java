package io.fetchbus.fetch;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FetchResult;
import io.fetchbus.bus.WebUrl;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.shareddata.Shareable;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * robots.txt rules per origin, fetched once (concurrent callers share the fetch) and kept for
 * {@code fetch.robots.ttlSeconds}, or {@code fetch.robots.errorTtlSeconds} when the server could not be
 * reached, so an outage is retried soon. Bounded by {@code fetch.robots.maxOrigins}. Shared by the fetch
 * verticles of one Vert.x instance. Loading never fails: every outcome is a set of rules (RFC 9309 2.3.1).
 */
final class RobotsCache implements Shareable {
  private final AsyncCache<String, RobotsRules> cache;

  private RobotsCache(FetchSettings.Robots s) {
    cache = Caffeine.newBuilder()
        .maximumSize(s.maxOrigins())
        .expireAfter(Expiry.creating((String origin, RobotsRules rules) -> rules.transientFailure() ? Duration.ZERO
            : Duration.ofSeconds(rules.reachable() ? s.ttlSeconds() : s.errorTtlSeconds())))
        .buildAsync();
  }

  static RobotsCache shared(Vertx vertx, FetchSettings s) {
    return vertx.sharedData().<String, RobotsCache>getLocalMap("fetchbus.fetch")
        .computeIfAbsent("robots", k -> new RobotsCache(s.robots()));
  }

  /** The rules for {@code url}'s origin; {@code fetch} gets robots.txt when they are not cached. */
  Future<RobotsRules> rules(WebUrl url, Context context, Function<WebUrl, Future<FetchResult>> fetch, String agent) {
    WebUrl robotsUrl = url.resolve("robots.txt URL", "/robots.txt");
    String origin = robotsUrl.key();
    CompletableFuture<RobotsRules> rules = cache.get(origin, (k, executor) -> {
      CompletableFuture<RobotsRules> cf = new CompletableFuture<>();
      fetch.apply(robotsUrl)
          // Parsing up to 512 KiB of rules is CPU work: a worker thread does it, not the event loop.
          .compose(result -> context.owner().executeBlocking(() -> outcome(robotsUrl, result, agent), false))
          .otherwise(RobotsCache::failure)
          .onComplete(ar -> cf.complete(ar.succeeded() ? ar.result() : RobotsRules.unreachable()));
      return cf;
    });
    return Future.fromCompletionStage(rules, context);
  }

  /** RFC 9309 2.3.1: 2xx is parsed; 4xx (robots.txt "unavailable") allows all; 5xx ("unreachable") disallows all. */
  private static RobotsRules outcome(WebUrl robotsUrl, FetchResult r, String agent) {
    if (r.status() >= 200 && r.status() < 300) {
      return RobotsRules.parse(robotsUrl.toString(), r.body().getBytes(), r.contentType(), agent);
    }
    // 429 is treated like 5xx, as the large crawlers do: the site asks us to hold off.
    if (r.status() >= 400 && r.status() < 500 && r.status() != 429) {
      return RobotsRules.allowAll();
    }
    return RobotsRules.unreachable();
  }

  /** A robots.txt behind too many redirects is "unavailable" (allow all); anything else unreachable. */
  private static RobotsRules failure(Throwable err) {
    if (Failure.TOO_MANY_REDIRECTS.is(err) || Failure.REDIRECT_LOOP.is(err)) {
      return RobotsRules.allowAll();
    }
    if (Failure.LIMITED.is(err) || Failure.UNAVAILABLE.is(err) || Failure.UPSTREAM_TIMEOUT.is(err)) {
      return RobotsRules.notFetched((ReplyException) err);
    }
    if (err instanceof ReplyException re && re.failureCode() >= 500) {
      return RobotsRules.unreachable(re);
    }
    return RobotsRules.unreachable();
  }
}
