package io.fetchbus.bus;

import java.util.concurrent.ThreadLocalRandom;

/**
 * The one backoff rule of Fetchbus's retries (upstream fetches, crawl entries, webhook deliveries): exponential from
 * {@code baseMs}, capped at {@code maxMs}, then a random point in the upper half of that, so that retries started
 * together do not come back together, and none waits less than half its step.
 */
public final class Backoff {
  private Backoff() {}

  /** The wait before retry number {@code retry} (0 for the first): base * 2^retry, capped, times 0.5 to 1. */
  public static long delayMs(int retry, long baseMs, long maxMs) {
    long step = Math.min(maxMs, baseMs << Math.min(20, Math.max(0, retry)));
    return Math.max(1, step / 2 + ThreadLocalRandom.current().nextLong(step / 2 + 1));
  }
}
