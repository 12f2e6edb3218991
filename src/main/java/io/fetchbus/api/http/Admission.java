package io.fetchbus.api.http;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.fetchbus.auth.ClientAddress;
import io.fetchbus.config.Settings;
import io.fetchbus.ops.SampledLog;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Overload protection at the door, shared by the API verticles of one Vert.x instance: at most
 * {@code limits.maxInFlightRequests} requests in progress (503 beyond), and a token bucket per client
 * ({@code limits.ratePerSecond}, {@code limits.burst}; 429 beyond). Both answer at once, with Retry-After.
 *
 * <p>A client is its API key. A request without a key is one of two cases. From a loopback address it is this
 * machine's own user, the only one there can be (without keys the service listens on loopback only): a rate limit
 * would only cap that user below what the node serves, so none applies, and the in-flight bound is what protects the
 * node. From another address (keys are off on purpose, {@code auth.disabled}) each address is a client of its own,
 * so that no client can use up the others' share.
 *
 * <p>Under overload there can be thousands of refusals a second, so they are not logged one by one (neither the
 * problem nor the access line): the first of each {@value #LOG_WINDOW_MS} ms is, and the rest are counted in one
 * line at the end of it.
 */
public final class Admission implements Handler<RoutingContext>, Shareable {
  /** Set on a request this refused: {@link Problems} and {@link RequestLog} leave it to the sampled log. */
  public static final String REFUSED = "fetchbus.admissionRefused";
  /**
   * The request's slot, given back once (a {@code Runnable}): when its response ends, or, for a WebSocket, whose
   * upgraded response never ends, when the socket closes (its handler runs it then).
   */
  public static final String RELEASE = "fetchbus.admissionRelease";
  static final long LOG_WINDOW_MS = 10_000;
  private static final Logger LOG = LoggerFactory.getLogger(Admission.class);
  /** Addresses with a bucket; a bucket unused for a minute is full again anyway, and is dropped. */
  private static final long MAX_BUCKETS = 100_000;

  private final int maxInFlight;
  private final double ratePerSecond;
  private final double burst;
  private final AtomicInteger inFlight = new AtomicInteger();
  /** One bucket per key name, or per client address for requests without a key. */
  private final Cache<String, Bucket> buckets;
  private final SampledLog refusals;

  /** Tokens left, and when they were counted. */
  private static final class Bucket {
    double tokens;
    long atNanos;

    Bucket(double tokens, long atNanos) {
      this.tokens = tokens;
      this.atNanos = atNanos;
    }
  }

  private Admission(Vertx vertx, JsonObject config) {
    refusals = new SampledLog(vertx, LOG, LOG_WINDOW_MS, 1, "requests refused by limits.*");
    maxInFlight = Settings.number(config, "limits", "maxInFlightRequests").intValue();
    ratePerSecond = Settings.number(config, "limits", "ratePerSecond").doubleValue();
    burst = Math.max(1, Settings.number(config, "limits", "burst").doubleValue());
    // Idle long enough to refill completely: forgetting the bucket then changes nothing.
    long refillSeconds = (long) Math.ceil(burst / Math.max(ratePerSecond, 0.001));
    buckets = Caffeine.newBuilder().maximumSize(MAX_BUCKETS)
        .expireAfterAccess(Duration.ofSeconds(Math.min(86_400, refillSeconds + 60))).build();
  }

  /** The node's admission, made from its configuration's {@code limits} the first time. */
  public static Admission shared(Vertx vertx, JsonObject config) {
    return vertx.sharedData().<String, Admission>getLocalMap("fetchbus.api")
        .computeIfAbsent("admission", k -> new Admission(vertx, config));
  }

  @Override
  public void handle(RoutingContext ctx) {
    String keyName = ctx.get(ApiKeys.KEY_NAME);
    String client = keyName != null ? "key " + keyName
        : ClientAddress.isLoopback(ctx.request().remoteAddress()) ? null
        : "client address " + ClientAddress.of(ctx.request().remoteAddress());
    if (client != null && !take(client)) {
      refuse(ctx, 429, "the rate limit of " + ratePerSecond + " requests/s (burst " + (long) burst
          + ") for " + client + " is exceeded (limits.ratePerSecond); retry later");
      return;
    }
    if (inFlight.incrementAndGet() > maxInFlight) {
      inFlight.decrementAndGet();
      refuse(ctx, 503, maxInFlight + " requests are already in progress (limits.maxInFlightRequests); retry later");
      return;
    }
    java.util.concurrent.atomic.AtomicBoolean held = new java.util.concurrent.atomic.AtomicBoolean(true);
    Runnable release = () -> {
      if (held.getAndSet(false)) {
        inFlight.decrementAndGet();
      }
    };
    ctx.put(RELEASE, release);
    ctx.addEndHandler(done -> release.run());
    ctx.next();
  }

  private void refuse(RoutingContext ctx, int status, String detail) {
    ctx.put(REFUSED, true);
    refusals.warn("refused {} {} with {}: {}; more refusals in the next {} s are counted, not logged one by one",
        ctx.request().method(), ctx.request().path(), status, detail, LOG_WINDOW_MS / 1000);
    ctx.fail(new HttpException(status, detail));
  }

  /** Token bucket: refilled continuously at the rate, holding at most the burst. */
  private boolean take(String client) {
    long now = System.nanoTime();
    Bucket bucket = buckets.get(client, k -> new Bucket(burst, now));
    synchronized (bucket) {
      bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.atNanos) / 1e9 * ratePerSecond);
      bucket.atNanos = now;
      if (bucket.tokens < 1) {
        return false;
      }
      bucket.tokens -= 1;
      return true;
    }
  }
}
