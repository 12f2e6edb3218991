package io.fetchbus.fetch;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bound on upstream fetches in flight across every fetch verticle of one Vert.x instance
 * ({@code fetch.maxInFlight}). Past it a fetch is refused at once with 429, so memory stays bounded by
 * limit x {@code fetch.maxBodyBytes} whatever the load.
 */
final class FetchPermits implements Shareable {
  private final int max;
  private final AtomicInteger inFlight = new AtomicInteger();

  private FetchPermits(int max) {
    this.max = max;
  }

  static FetchPermits shared(Vertx vertx, FetchSettings s) {
    return vertx.sharedData().<String, FetchPermits>getLocalMap("fetchbus.fetch")
        .computeIfAbsent("permits", k -> new FetchPermits(s.maxInFlight()));
  }

  boolean tryAcquire() {
    while (true) {
      int n = inFlight.get();
      if (n >= max) {
        return false;
      }
      if (inFlight.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  void release() {
    inFlight.decrementAndGet();
  }

  int max() {
    return max;
  }

  int inFlight() {
    return inFlight.get();
  }
}
