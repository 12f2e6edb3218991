package io.fetchbus.fetch;

import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code onIdle} when a response body has sent nothing for {@code fetch.idleTimeoutMs}, and is stopped when
 * the exchange ends. Used instead of the client request's own idle timeout: re-armed after the response head,
 * that timer outlived the exchange by the whole timeout and kept the request, its response and the body with it
 * (at 300 fetches/s, 15 s of bodies: most of a 256 MB heap). One timer per body, pushed back lazily: a chunk only
 * notes the time. Confined to the event loop of the exchange.
 */
final class IdleWatch {
  private final Vertx vertx;
  private final long idleNanos;
  private final Runnable onIdle;
  private long lastData = System.nanoTime();
  private long timer;
  private boolean stopped;

  IdleWatch(Vertx vertx, long idleMs, Runnable onIdle) {
    this.vertx = vertx;
    this.idleNanos = TimeUnit.MILLISECONDS.toNanos(idleMs);
    this.onIdle = onIdle;
    this.timer = vertx.setTimer(Math.max(1, idleMs), t -> check());
  }

  void dataReceived() {
    lastData = System.nanoTime();
  }

  /** The exchange ended: the timer goes, and with it every reference to the exchange. */
  void stop() {
    stopped = true;
    vertx.cancelTimer(timer);
  }

  private void check() {
    if (stopped) {
      return;
    }
    long silent = System.nanoTime() - lastData;
    if (silent >= idleNanos) {
      stopped = true;
      onIdle.run();
    } else {
      timer = vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(idleNanos - silent) + 1), t -> check());
    }
  }
}
