package io.fetchbus.store;

import io.vertx.core.shareddata.Shareable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says in the log, once, when PostgreSQL stops answering, and once when it answers again, with how long it was
 * out: between the two, every request that needs it answers 503, and those are not worth a line each. Shared by
 * the store verticles of a Vert.x instance (thread-safe), so an outage is two lines whatever their number.
 */
final class StoreOutage implements Shareable {
  private static final Logger LOG = LoggerFactory.getLogger(StoreOutage.class);

  private final String where;
  /** When the outage began (epoch ms), or -1 while PostgreSQL answers. */
  private long since = -1;
  /** When the last outage ended (epoch ms). */
  private long endedAt = -1;

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
      if (since >= 0 || askedAt < endedAt) {
        return;
      }
      since = System.currentTimeMillis();
    }
    LOG.warn("PostgreSQL at {} cannot be reached ({}): requests that need the store answer 503 until it is back",
        where, StoreErrors.brief(cause));
  }

  /** A request reached PostgreSQL. */
  void reached() {
    long began;
    synchronized (this) {
      if (since < 0) {
        return;
      }
      began = since;
      since = -1;
      endedAt = System.currentTimeMillis();
    }
    LOG.warn("PostgreSQL at {} is reachable again after an outage of {} ms", where, System.currentTimeMillis() - began);
  }
}
