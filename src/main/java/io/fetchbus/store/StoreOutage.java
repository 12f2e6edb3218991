package io.fetchbus.store;

import io.vertx.core.shareddata.Shareable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says in the log, once, when PostgreSQL stops answering, and once when it answers again, with how long it was
 * out: between the two, every request that needs it answers 503, and those are not worth a line each. Shared by
 * the store verticles of a Vert.x instance (thread-safe), so an outage is two lines whatever their number. An
 * outage ends once PostgreSQL has answered with no failure for {@link #SETTLE_MS}: a server whose connections are
 * cut over and over (a storm of {@code pg_terminate_backend}, a flapping network) is one outage, not two lines a flap.
 */
final class StoreOutage implements Shareable {
  private static final Logger LOG = LoggerFactory.getLogger(StoreOutage.class);
  /** How long PostgreSQL must go without a failure for an outage to end. */
  static final long SETTLE_MS = 1_000;

  private final String where;
  /** When the outage began (epoch ms), or -1 while PostgreSQL answers. */
  private long since = -1;
  /** When the last outage ended (epoch ms). */
  private long endedAt = -1;
  /** When a request last failed for want of PostgreSQL (epoch ms). */
  private long failedAt = -1;

  StoreOutage(String where) {
    this.where = where;
  }

  /**
   * A request made at {@code askedAt} (epoch ms) failed because PostgreSQL could not be reached ({@link
   * StoreErrors#unreachable}). One made before the last outage ended is old news: it failed during that outage
   * (a connection attempt to a frozen server times out after the thaw), not in a new one.
   */
  void unreachable(Throwable cause, long askedAt) {
    synchronized (this) {
      if (askedAt < endedAt) {
        return;
      }
      failedAt = System.currentTimeMillis();
      if (since >= 0) {
        return;
      }
      since = failedAt;
    }
    LOG.warn("PostgreSQL at {} cannot be reached ({}): requests that need the store answer 503 until it is back",
        where, StoreErrors.brief(cause));
  }

  /** A request reached PostgreSQL: that ends the outage, unless a request failed less than SETTLE_MS ago. */
  void reached() {
    long began;
    synchronized (this) {
      if (since < 0 || System.currentTimeMillis() - failedAt < SETTLE_MS) {
        return;
      }
      began = since;
      since = -1;
      endedAt = System.currentTimeMillis();
    }
    LOG.warn("PostgreSQL at {} is reachable again after an outage of {} ms", where, System.currentTimeMillis() - began);
  }
}
