package io.fetchbus.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.fetchbus.config.Settings;
import io.fetchbus.ops.SampledLog;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Slows down key guessing: a client address that presented {@code auth.maxFailures} wrong keys within
 * {@code auth.failureWindowSeconds} of its first one is refused outright until that window ends, before its key is
 * even looked at (so a throttled guesser cannot tell a right key from a wrong one). A request without any key is not
 * a guess and is not counted. One per Vert.x instance ({@link #shared}), used by the API verticles and the TCP bridge
 * alike, so an address has one budget per node, whichever event loop or door it knocks on. The addresses it remembers
 * are bounded: at most {@link #MAX_CLIENTS}, each for one window.
 */
public final class FailedAuthThrottle implements Shareable {
  static final long MAX_CLIENTS = 100_000;
  private static final Logger LOG = LoggerFactory.getLogger(FailedAuthThrottle.class);
  private static final long LOG_EVERY_MS = 10_000;
  private static final String SHARED_MAP = "fetchbus.auth";

  private final int maxFailures;
  private final long windowMs;
  /** Expire a window's entry when the window ends: a new failure after it starts a new window. */
  private final Cache<String, Window> windows;
  /** A line per newly throttled address, one per {@link #LOG_EVERY_MS} at most, the others counted in a summary. */
  private final SampledLog blockedLog;

  /** FailureReplies counted from the first one; the entry is written once, so it expires with its window. */
  private static final class Window {
    final long startMs;
    int failures;

    Window(long startMs) {
      this.startMs = startMs;
    }
  }

  FailedAuthThrottle(Vertx vertx, int maxFailures, long windowMs, long logEveryMs) {
    this.maxFailures = maxFailures;
    this.windowMs = windowMs;
    this.blockedLog = new SampledLog(vertx, LOG, logEveryMs, 1, "client addresses throttled for wrong API keys");
    this.windows = Caffeine.newBuilder().maximumSize(MAX_CLIENTS).expireAfterWrite(Duration.ofMillis(windowMs)).build();
  }

  /**
   * The throttle of this Vert.x instance, made from the {@code auth} config by whoever asks first (the API or the
   * bridge); a bound below 1 refuses the start rather than leave guessing unthrottled.
   */
  public static FailedAuthThrottle shared(Vertx vertx, JsonObject config) {
    return vertx.sharedData().<String, FailedAuthThrottle>getLocalMap(SHARED_MAP)
        .computeIfAbsent("throttle", k -> from(vertx, config));
  }

  static FailedAuthThrottle from(Vertx vertx, JsonObject config) {
    int max = Settings.number(config, "auth", "maxFailures").intValue();
    long windowSeconds = Settings.number(config, "auth", "failureWindowSeconds").longValue();
    if (max < 1 || windowSeconds < 1 || windowSeconds > 86_400) {
      throw new IllegalArgumentException("auth.maxFailures must be at least 1 and auth.failureWindowSeconds between "
          + "1 and 86400 (got " + max + " and " + windowSeconds + ")");
    }
    return new FailedAuthThrottle(vertx, max, windowSeconds * 1000, LOG_EVERY_MS);
  }

  public int maxFailures() {
    return maxFailures;
  }

  public long windowSeconds() {
    return windowMs / 1000;
  }

  /** How long {@code client} must wait before its next key is looked at: 0 when it may try now. */
  public long blockedForMs(String client) {
    Window w = windows.getIfPresent(client);
    if (w == null) {
      return 0;
    }
    synchronized (w) {
      long left = w.startMs + windowMs - System.currentTimeMillis();
      return w.failures >= maxFailures && left > 0 ? left : 0;
    }
  }

  /** Counts a wrong key presented by {@code client}. */
  public void failed(String client) {
    Window w = windows.get(client, k -> new Window(System.currentTimeMillis()));
    boolean nowBlocked;
    synchronized (w) {
      nowBlocked = ++w.failures == maxFailures;
    }
    if (nowBlocked) {
      // Sampled: however many addresses guess, the log cannot be flooded, and none goes unmentioned.
      blockedLog.warn("client address {} presented {} wrong API keys within {} s and is refused until its window ends "
          + "(auth.maxFailures, auth.failureWindowSeconds)", client, maxFailures, windowMs / 1000);
    }
  }
}
