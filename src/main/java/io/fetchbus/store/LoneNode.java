package io.fetchbus.store;

import io.fetchbus.bus.Bus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
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
 * set-up only for nodes that crawl apart; nodes meant to work together are clustered. The store looks once per node,
 * before it declares itself ready, for other nodes' sessions ({@code fetchbus/<node id>}, see {@link StoreConnections}).
 */
final class LoneNode {
  private static final Logger LOG = LoggerFactory.getLogger(LoneNode.class);
  /** Held, in the store's local map, by the store verticle that checks for the node: the others do not. */
  private static final String CLAIM = "loneNodeCheck";

  private LoneNode() {}

  /**
   * The ids of the other nodes connected to the database now, after a warning when there are any; none, unchecked,
   * when another store verticle of this node (with {@code store.instances} above 1) has checked or is checking. A
   * check that fails gives its claim back, so that the next attempt at start, of whichever verticle, checks again.
   */
  static Future<Set<String>> check(Vertx vertx, Pool pool) {
    LocalMap<String, Object> store = vertx.sharedData().getLocalMap("fetchbus.store");
    if (store.putIfAbsent(CLAIM, Boolean.TRUE) != null) {
      return Future.succeededFuture(Set.of());
    }
    Object self = vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_ID);
    return pool.query(Sql.CONNECTED_NODES).execute().map(rows -> {
      Set<String> others = new TreeSet<>();
      for (Row row : rows) {
        others.add(row.getString("node"));
      }
      if (self != null) {
        others.remove(self);
      }
      if (!others.isEmpty()) {
        LOG.warn("{} other Fetchbus node(s) use this database ({}), and this one was started without -cluster: the "
            + "crawl frontier is shared, but not politeness, so each node fetches every origin at its own per-host "
            + "limit. Start nodes that work together with -cluster", others.size(), String.join(", ", others));
      }
      return others;
    }).onFailure(err -> store.remove(CLAIM));
  }
}
