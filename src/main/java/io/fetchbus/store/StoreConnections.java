package io.fetchbus.store;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import java.util.Set;

/**
 * How the store connects to PostgreSQL: the URL of {@code pg.url}, its hot statements kept prepared, and two session
 * settings sent with every connection's start-up message.
 * <ul>
 *   <li>With {@code pg.preparedStatements}, the statements of {@link #KEPT_PREPARED} are kept prepared on each
 *   connection: those run for every page, each writing or reading rows by their keys, so that one plan serves all
 *   their values. Any other statement is prepared, planned for its values and dropped each time, two round trips:
 *   a plan kept for all values (PostgreSQL's generic plan) made a crawl's claims nearly eight times as slow.
 *   {@code false} keeps none.</li>
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
  /** The statements kept prepared: a page's save, read and crawl completion, and a claim's updates of its job. */
  static final Set<String> KEPT_PREPARED = Set.of(Sql.INSERT_PAGE, Sql.PAGE_BY_ID, Sql.PAGE_BY_FETCH_ID,
      Sql.FORMATS_BY_PAGE_ID, Sql.REVALIDATE_PAGE, CrawlSql.COMPLETE_WITH_PAGE, CrawlSql.INSERT_PAGE_FOR_JOB,
      CrawlSql.HELD_LEASES, CrawlSql.COMPLETE_PAGES, CrawlSql.LOCK_JOB, CrawlSql.MARK_CLAIMED);

  private StoreConnections() {}

  /** The options every store connection of this node uses, from the config's {@code pg} part. */
  public static PgConnectOptions options(Vertx vertx, JsonObject config) {
    return options(vertx, StoreSettings.from(config));
  }

  static PgConnectOptions options(Vertx vertx, StoreSettings settings) {
    PgConnectOptions connect = PgConnectOptions.fromUri(settings.url());
    if (settings.preparedStatements()) {
      connect.setCachePreparedStatements(true).setPreparedStatementCacheMaxSize(KEPT_PREPARED.size())
          .setPreparedStatementCacheSqlFilter(KEPT_PREPARED::contains);
    }
    String name = SplitWatch.applicationName(vertx);
    if (name != null) {
      connect.addProperty("application_name", name);
    }
    connect.addProperty("idle_in_transaction_session_timeout", Long.toString(settings.requestTimeoutMs()));
    return connect;
  }
}
