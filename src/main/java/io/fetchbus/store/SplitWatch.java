package io.fetchbus.store;

import io.fetchbus.bus.Bus;
import io.fetchbus.ops.Meters;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
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
 * Every check is published to the node's half of the cluster ({@link Bus#CLUSTER_SPLIT}), with, while a node is
 * outside, the <em>owners</em>: the nodes with the fetch role (their connections' names say so) that used the
 * database within the last three checks, in and outside this cluster alike. Both halves read that list from the one
 * database, so each origin gets one owner across the split (the fetch nodes hash it over that list), and no site
 * sees more than its per-host limit. A frozen node stops using its connections, so it drops out of the list
 * (and its origins move) within three checks although its connections stay open.
 */
final class SplitWatch implements Shareable {
  private static final Logger LOG = LoggerFactory.getLogger(SplitWatch.class);
  static final String APPLICATION_PREFIX = "fetchbus/";

  private final Vertx vertx;
  private final Meters meters;
  private final long checkMs;
  /** Outside in the last check; reported once outside in this one too. */
  private Set<String> suspects = Set.of();
  private Set<String> outside = Set.of();

  private SplitWatch(Vertx vertx, long checkMs) {
    this.vertx = vertx;
    this.meters = Meters.of(vertx);
    this.checkMs = checkMs;
  }

  /**
   * The name of this node's connections: {@code fetchbus/<node id>}, and {@code /fetch} after it when the node runs
   * the fetch role (51 characters at most with a UUID, within PostgreSQL's 63); null without a node id.
   */
  static String applicationName(Vertx vertx) {
    var node = vertx.sharedData().getLocalMap(Bus.NODE_INFO);
    if (!(node.get(Bus.NODE_ID) instanceof String id)) {
      return null;
    }
    boolean fetches = node.get(Bus.NODE_ROLES) instanceof String roles && (',' + roles + ',').contains(",fetch,");
    return APPLICATION_PREFIX + id + (fetches ? "/fetch" : "");
  }

  /** The node's one watch, checking every {@code checkMs}, or null when another store verticle of the node runs it. */
  static SplitWatch claim(Vertx vertx, long checkMs) {
    SplitWatch mine = new SplitWatch(vertx, checkMs);
    return vertx.sharedData().<String, SplitWatch>getLocalMap("fetchbus.store").putIfAbsent("splitWatch", mine) == null
        ? mine : null;
  }

  /** Stops watching (the store stops): what it reported is withdrawn. */
  void stop() {
    vertx.sharedData().getLocalMap("fetchbus.store").remove("splitWatch", this);
    report(Set.of());
  }

  void check(Pool pool) {
    pool.preparedQuery(Sql.CONNECTED_NODES).execute(Tuple.of(3 * checkMs)).onSuccess(rows -> {
      Set<String> seen = new TreeSet<>();
      List<String> owners = new ArrayList<>();
      for (Row row : rows) {
        seen.add(row.getString("node"));
        if (Boolean.TRUE.equals(row.getBoolean("fetches")) && Boolean.TRUE.equals(row.getBoolean("working"))) {
          owners.add(row.getString("node"));
        }
      }
      // The members this node's cluster sees: the cluster manager is reachable through VertxInternal only.
      seen.removeAll(new HashSet<>(((VertxInternal) vertx).clusterManager().getNodes()));
      Set<String> confirmed = new TreeSet<>(seen);
      confirmed.retainAll(suspects);
      suspects = seen;
      report(confirmed);
      Collections.sort(owners);
      vertx.eventBus().publish(Bus.CLUSTER_SPLIT, new JsonObject()
          .put("node", vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_ID))
          .put("outside", new JsonArray(List.copyOf(confirmed)))
          .put("owners", new JsonArray(confirmed.isEmpty() ? List.of() : owners)));
    }).onFailure(err -> LOG.debug("could not list the nodes connected to PostgreSQL: {}", err.getMessage()));
  }

  private void report(Set<String> now) {
    if (now.equals(outside)) {
      return;
    }
    if (outside.isEmpty()) {
      LOG.warn("{} node(s) use this database but are not members of this cluster: {}. Either the cluster is split "
          + "(until Hazelcast merges the halves, each origin is fetched only by its owner among the fetch nodes the "
          + "database sees working, whichever half it is in; the other half answers its requests with 503), or a "
          + "node was cut off or frozen, or another cluster is configured with this database", now.size(),
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
