package io.fetchbus.api;

import io.fetchbus.ops.SampledLog;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Overload protection at the door, shared by the API verticles of one Vert.x instance: at most
 * {@code limits.maxInFlightRequests} requests in progress (503 beyond), and a token bucket per API key
 * ({@code limits.ratePerSecond}, {@code limits.burst}; 429 beyond). Both answer at once, with Retry-After.
 * Under overload there can be thousands of refusals a second, so they are not logged one by one (neither the
 * problem nor the access line): the first of each {@value #LOG_WINDOW_MS} ms is, and the rest are counted in one
 * line at the end of it.
 */
final class Admission implements Handler<RoutingContext>, Shareable {
  /** Set on a request this refused: {@link Problems} and {@link RequestLog} leave it to the sampled log. */
  static final String REFUSED = "fetchbus.admissionRefused";
  static final long LOG_WINDOW_MS = 10_000;
  private static final Logger LOG = LoggerFactory.getLogger(Admission.class);

  private final int maxInFlight;
  private final double ratePerSecond;
  private final double burst;
  private final AtomicInteger inFlight = new AtomicInteger();
  /** One bucket per key name (bounded by the configured keys, plus one for requests without a key). */
  private final Map<String, double[]> buckets = new HashMap<>();
  private final SampledLog refusals;

  private Admission(Vertx vertx, JsonObject limits) {
    refusals = new SampledLog(vertx, LOG, LOG_WINDOW_MS, 1, "requests refused by limits.*");
    maxInFlight = limits.getInteger("maxInFlightRequests", 512);
    ratePerSecond = limits.getDouble("ratePerSecond", 50.0);
    burst = Math.max(1, limits.getDouble("burst", 100.0));
  }

  static Admission shared(Vertx vertx, JsonObject limits) {
    return vertx.sharedData().<String, Admission>getLocalMap("fetchbus.api")
        .computeIfAbsent("admission", k -> new Admission(vertx, limits));
  }

  @Override
  public void handle(RoutingContext ctx) {
    String key = ctx.get(ApiKeys.KEY_NAME, "-");
    if (!take(key)) {
      refuse(ctx, 429, "the rate limit of " + ratePerSecond + " requests/s (burst " + (long) burst
          + ") for key " + key + " is exceeded (limits.ratePerSecond); retry later");
      return;
    }
    if (inFlight.incrementAndGet() > maxInFlight) {
      inFlight.decrementAndGet();
      refuse(ctx, 503, maxInFlight + " requests are already in progress (limits.maxInFlightRequests); retry later");
      return;
    }
    ctx.addEndHandler(done -> inFlight.decrementAndGet());
    ctx.next();
  }

  private void refuse(RoutingContext ctx, int status, String detail) {
    ctx.put(REFUSED, true);
    refusals.warn("refused {} {} with {}: {}; more refusals in the next {} s are counted, not logged one by one",
        ctx.request().method(), ctx.request().path(), status, detail, LOG_WINDOW_MS / 1000);
    ctx.fail(new HttpException(status, detail));
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
