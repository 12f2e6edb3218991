package io.fetchbus.store;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;

/**
 * How the store connects to PostgreSQL: the URL of {@code pg.url}, and two session settings sent with every
 * connection's start-up message.
 * <ul>
 *   <li>{@code application_name} {@code fetchbus/<node id>}, so that a node outside this cluster that uses the
 *   database shows ({@link SplitWatch}).</li>
 *   <li>{@code idle_in_transaction_session_timeout} of {@code pg.requestTimeoutMs}: a node frozen (SIGSTOP, a long
 *   GC pause, a suspended VM) in the middle of a transaction would otherwise hold its locks, a crawl job's row among
 *   them, until it thaws, and every node's work on that job would queue behind them and fill its pool. A store's
 *   transactions never wait on their client that long (its own request would have timed out), so PostgreSQL ends such
 *   a session, rolls its transaction back and frees the locks; the node, once thawed, finds the connection closed
 *   and its leases fenced.</li>
 * </ul>
 */
public final class StoreConnections {
  private StoreConnections() {}

  /** The options every store connection of this node uses, from the config's {@code pg} part. */
  public static PgConnectOptions options(Vertx vertx, JsonObject config) {
    return options(vertx, StoreSettings.from(config));
  }

  static PgConnectOptions options(Vertx vertx, StoreSettings settings) {
    PgConnectOptions connect = PgConnectOptions.fromUri(settings.url());
    String name = SplitWatch.applicationName(vertx);
    if (name != null) {
      connect.addProperty("application_name", name);
    }
    connect.addProperty("idle_in_transaction_session_timeout", Long.toString(settings.requestTimeoutMs()));
    return connect;
  }
}
