package io.fetchbus.api;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Overload protection at the door, shared by the API verticles of one Vert.x instance: at most
 * {@code limits.maxInFlightRequests} requests in progress (503 beyond), and a token bucket per API key
 * ({@code limits.ratePerSecond}, {@code limits.burst}; 429 beyond). Both answer at once, with Retry-After.
 */
final class Admission implements Handler<RoutingContext>, Shareable {
  private final int maxInFlight;
  private final double ratePerSecond;
  private final double burst;
  private final AtomicInteger inFlight = new AtomicInteger();
  /** One bucket per key name (bounded by the configured keys, plus one for requests without a key). */
  private final Map<String, double[]> buckets = new HashMap<>();

  private Admission(JsonObject limits) {
    maxInFlight = limits.getInteger("maxInFlightRequests", 512);
    ratePerSecond = limits.getDouble("ratePerSecond", 50.0);
    burst = Math.max(1, limits.getDouble("burst", 100.0));
  }

  static Admission shared(Vertx vertx, JsonObject limits) {
    return vertx.sharedData().<String, Admission>getLocalMap("fetchbus.api")
        .computeIfAbsent("admission", k -> new Admission(limits));
  }

  @Override
  public void handle(RoutingContext ctx) {
    String key = ctx.get(ApiKeys.KEY_NAME, "-");
    if (!take(key)) {
      ctx.fail(new HttpException(429, "the rate limit of " + ratePerSecond + " requests/s (burst " + (long) burst
          + ") for key " + key + " is exceeded (limits.ratePerSecond); retry later"));
      return;
    }
    if (inFlight.incrementAndGet() > maxInFlight) {
      inFlight.decrementAndGet();
      ctx.fail(new HttpException(503, maxInFlight + " requests are already in progress "
          + "(limits.maxInFlightRequests); retry later"));
      return;
    }
    ctx.addEndHandler(done -> inFlight.decrementAndGet());
    ctx.next();
  }

  /** Token bucket: refilled continuously at the rate, holding at most the burst. */
  private synchronized boolean take(String key) {
    long now = System.nanoTime();
    double[] bucket = buckets.computeIfAbsent(key, k -> new double[] {burst, now});
    bucket[0] = Math.min(burst, bucket[0] + (now - bucket[1]) / 1e9 * ratePerSecond);
    bucket[1] = now;
    if (bucket[0] < 1) {
      return false;
    }
    bucket[0] -= 1;
    return true;
  }
}
