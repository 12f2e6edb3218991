package io.fetchbus.store;

import io.fetchbus.bus.Bus;
import io.fetchbus.ops.Meters;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.shareddata.Shareable;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices a split cluster, or a node cut off from it, through what the halves still share: PostgreSQL. Every store
 * connection is named {@code fetchbus/<node id>} ({@code application_name}); every {@code cluster.splitCheckMs}, one
 * store verticle of a clustered node lists the nodes connected to the database and compares them with the members
 * of its cluster. A node seen connected in two checks in a row without being a member is <em>outside</em>: the other
 * half of a split, a frozen node the cluster dropped, or a node of another cluster configured with this database.
 * While any is, the node says so once at WARN, shows them in {@code /ready} ({@link Bus#NODE_OUTSIDE}) and in
 * {@code fetchbus_cluster_outside_nodes}; when none is left, it says so at INFO.
 * <p>
 * This reports a split; it does not keep politeness through one. That is the origin leases' work (migration V15,
 * {@link Bus#ORIGIN_LEASES}): a fetch node fetches an origin only while it holds its lease in PostgreSQL, whatever
 * it or this check believes about the cluster, so neither the seconds before a check notices a split nor the
 * disagreement of two halves' checks can let two nodes fetch one origin.
 */
final class SplitWatch implements Shareable {
  private static final Logger LOG = LoggerFactory.getLogger(SplitWatch.class);
  static final String APPLICATION_PREFIX = "fetchbus/";

  private final Vertx vertx;
  private final Meters meters;
  /** Outside in the last check; reported once outside in this one too. */
  private Set<String> suspects = Set.of();
  private Set<String> outside = Set.of();

  private SplitWatch(Vertx vertx) {
    this.vertx = vertx;
    this.meters = Meters.of(vertx);
  }

  /**
   * The name of this node's connections: {@code fetchbus/<node id>} (45 characters with a UUID, within PostgreSQL's
   * 63); null without a node id.
   */
  static String applicationName(Vertx vertx) {
    return vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_ID) instanceof String id
        ? APPLICATION_PREFIX + id : null;
  }

  /** The node's one watch, or null when another store verticle of the node runs it. */
  static SplitWatch claim(Vertx vertx) {
    SplitWatch mine = new SplitWatch(vertx);
    return vertx.sharedData().<String, SplitWatch>getLocalMap("fetchbus.store").putIfAbsent("splitWatch", mine) == null
        ? mine : null;
  }

  /** Stops watching (the store stops): what it reported is withdrawn. */
  void stop() {
    vertx.sharedData().getLocalMap("fetchbus.store").remove("splitWatch", this);
    report(Set.of());
  }

  void check(Pool pool) {
    pool.query(Sql.CONNECTED_NODES).execute().onSuccess(rows -> {
      Set<String> seen = new TreeSet<>();
      for (Row row : rows) {
        seen.add(row.getString("node"));
      }
      // The members this node's cluster sees: the cluster manager is reachable through VertxInternal only.
      seen.removeAll(new HashSet<>(((VertxInternal) vertx).clusterManager().getNodes()));
      Set<String> confirmed = new TreeSet<>(seen);
      confirmed.retainAll(suspects);
      suspects = seen;
      report(confirmed);
    }).onFailure(err -> LOG.debug("could not list the nodes connected to PostgreSQL: {}", err.getMessage()));
  }

  private void report(Set<String> now) {
    if (now.equals(outside)) {
      return;
    }
    if (outside.isEmpty()) {
      LOG.warn("{} node(s) use this database but are not members of this cluster: {}. Either the cluster is split "
          + "(until Hazelcast merges the halves, each origin is fetched by the half whose node holds its lease; the "
          + "other half answers its requests with 503), or a node was cut off or frozen, or another cluster is "
          + "configured with this database", now.size(),
          String.join(", ", now));
    } else if (now.isEmpty()) {
      LOG.info("no node outside this cluster uses the database any more");
    } else {
      LOG.info("nodes outside this cluster that use the database: {}", String.join(", ", now));
    }
    outside = Set.copyOf(now);
    if (now.isEmpty()) {
      vertx.sharedData().getLocalMap(Bus.NODE_INFO).remove(Bus.NODE_OUTSIDE);
    } else {
      vertx.sharedData().getLocalMap(Bus.NODE_INFO).put(Bus.NODE_OUTSIDE, String.join(",", now));
    }
    meters.outsideNodes(now.size());
  }
}
