package io.fetchbus.store;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * Asks PostgreSQL {@code SELECT 1} every second over a connection of its own, so that an outage is noticed and its
 * end logged ({@link StoreOutage}) whatever the traffic, and so that a server that stops answering counts as out
 * too, not only one that refuses or closes connections. A frozen server (SIGSTOP, a paused VM, packets dropped)
 * keeps every connection open and answers nothing: requests then only time out, which says nothing about the
 * server to {@link StoreErrors#unreachable}. Here an answer that has not come within {@code pg.requestTimeoutMs}
 * starts the outage. The probe has a connection of its own, not one of the pool's, so that a busy pool is never
 * taken for a dead server.
 */
final class StoreProbe {
  private static final long EVERY_MS = 1_000;

  private final Vertx vertx;
  private final PgConnectOptions connect;
  private final int connectTimeoutMs;
  private final StoreOutage outage;
  private final long timeoutMs;
  private final BooleanSupplier ready;
  private Pool pool;
  private long timer = -1;
  /** When the question under way was asked (epoch ms), or -1. */
  private long askedAt = -1;
  /** Counts the connections dropped, so that the late answer of a dropped one is ignored. */
  private long generation;

  StoreProbe(Vertx vertx, PgConnectOptions connect, int connectTimeoutMs, StoreOutage outage, long timeoutMs,
             BooleanSupplier ready) {
    this.vertx = vertx;
    this.connect = connect;
    this.connectTimeoutMs = connectTimeoutMs;
    this.outage = outage;
    this.timeoutMs = timeoutMs;
    this.ready = ready;
  }

  void start() {
    timer = vertx.setPeriodic(EVERY_MS, t -> ask());
  }

  void stop() {
    vertx.cancelTimer(timer);
    generation++; // a question under way fails as its connection closes: that says nothing of the server
    if (pool != null) {
      pool.close();
    }
  }

  private void ask() {
    if (!ready.getAsBoolean()) {
      return; // until the schema is migrated, the store's start-up retries say what is wrong
    }
    long now = System.currentTimeMillis();
    if (askedAt >= 0) {
      if (now - askedAt >= timeoutMs) {
        outage.unreachable(new TimeoutException("no answer within " + timeoutMs + " ms (pg.requestTimeoutMs)"),
            askedAt);
        // Its connection may hang for as long as the server does: the next question goes over a new one.
        drop();
      }
      return;
    }
    if (pool == null) {
      pool = PgBuilder.pool()
          .with(new PoolOptions().setMaxSize(1).setConnectionTimeout((int) timeoutMs)
              .setConnectionTimeoutUnit(TimeUnit.MILLISECONDS))
          .with(new NetClientOptions().setConnectTimeout(connectTimeoutMs))
          .connectingTo(connect)
          .using(vertx)
          .build();
    }
    askedAt = now;
    long asked = generation;
    pool.query("SELECT 1").execute().onComplete(ar -> {
      if (asked != generation) {
        return;
      }
      askedAt = -1;
      if (ar.succeeded()) {
        outage.reached();
      } else {
        outage.unreachable(ar.cause(), now); // SELECT 1 fails only when the server cannot be reached or refuses us
      }
    });
  }

  private void drop() {
    generation++;
    askedAt = -1;
    pool.close();
    pool = null;
  }
}
