package io.fetchbus.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says so when a node started without {@code -cluster} shares its database with other Fetchbus nodes. Unclustered
 * nodes take no origin leases (one node alone pays nothing for them): they share the frontier, whose leases keep a
 * crawl exact, but not politeness, so each fetches every origin at its own per-host limit. That is a legitimate
 * set-up only for nodes that crawl apart; nodes meant to work together are clustered. The store looks once, before
 * it declares itself ready, for other nodes' sessions ({@code fetchbus/<node id>}, see {@link StoreConnections}).
 */
final class LoneNode {
  private static final Logger LOG = LoggerFactory.getLogger(LoneNode.class);

  private LoneNode() {}

  /** The ids of the other nodes connected to the database now, after a warning when there are any. */
  static Future<Set<String>> check(Vertx vertx, Pool pool) {
    String self = SplitWatch.applicationName(vertx);
    return pool.query(Sql.CONNECTED_NODES).execute().map(rows -> {
      Set<String> others = new TreeSet<>();
      for (Row row : rows) {
        others.add(row.getString("node"));
      }
      if (self != null) {
        others.remove(self.substring(SplitWatch.APPLICATION_PREFIX.length()));
      }
      if (!others.isEmpty()) {
        LOG.warn("{} other Fetchbus node(s) use this database ({}), and this one was started without -cluster: the "
            + "crawl frontier is shared, but not politeness, so each node fetches every origin at its own per-host "
            + "limit. Start nodes that work together with -cluster", others.size(), String.join(", ", others));
      }
      return others;
    });
  }
}
