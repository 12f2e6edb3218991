package io.fetchbus.store;

import io.fetchbus.bus.Failure;
import io.vertx.core.VertxException;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.DecodeException;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;
import java.io.IOException;
import java.time.DateTimeException;
import java.util.concurrent.TimeoutException;

/** Which database failures mean "the store is unavailable" (503, try again) and which are our bug (500). */
final class StoreErrors {
  private StoreErrors() {}

  static ReplyException classify(Throwable err) {
    if (err instanceof ReplyException re) {
      return re;
    }
    if (unreachable(err)) {
      return unavailable();
    }
    if (err instanceof PgException pg) {
      String state = pg.getSqlState() == null ? "" : pg.getSqlState();
      // 53: insufficient resources (too many connections, out of memory): the server is there, and busy.
      if (state.startsWith("53")) {
        return unavailable();
      }
      // 40: a transaction rolled back for a conflict (deadlock, serialization); trying again is the cure.
      if (state.startsWith("40")) {
        return Failure.UNAVAILABLE.exception("the store rolled back a conflicting transaction (SQLSTATE " + state
            + "); retry");
      }
      return Failure.INTERNAL.exception("the store could not run a query (SQLSTATE " + state + ")");
    }
    // Vert.x's own failures of the connection or the pool (refused, reset, closed, timed out, wait queue full) mean
    // the store cannot be reached now. Anything else (a parameter the client refused, a null, a bad cast) is a bug
    // of ours: a 500, logged with its stack, not a 503 that would have callers retry it for ever.
    for (Throwable t = err; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof IOException || t instanceof TimeoutException || t instanceof VertxException) {
        return unavailable();
      }
    }
    return Failure.INTERNAL.exception("the store failed: " + err);
  }

  /**
   * Whether {@code err} says PostgreSQL cannot be reached at all: a connection refused, reset, closed or timed out
   * while connecting, or the server shutting down (SQLSTATE 08, 57P). Not a full pool or its wait queue: that is
   * load, with the server up.
   */
  static boolean unreachable(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof PgException pg) {
        String state = pg.getSqlState() == null ? "" : pg.getSqlState();
        return state.startsWith("08") || state.startsWith("57P");
      }
      if (t instanceof IOException || t instanceof ClosedConnectionException) {
        return true;
      }
    }
    return false;
  }

  /** The innermost cause, in a few words, for a log line. */
  static String brief(Throwable t) {
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }

  /** A request that failed while being read: a wrongly typed field is the sender's fault, anything else ours. */
  static Throwable invalidRequest(RuntimeException e) {
    if (e instanceof ReplyException) {
      return e;
    }
    if (e instanceof ClassCastException || e instanceof IllegalArgumentException || e instanceof DecodeException
        || e instanceof DateTimeException) {
      return Failure.INVALID.exception("a field has the wrong type or format: " + e.getMessage());
    }
    return Failure.INTERNAL.exception(e.toString());
  }

  static ReplyException unavailable() {
    return Failure.UNAVAILABLE.exception("the store is unavailable: PostgreSQL cannot be reached; retry later");
  }
}
