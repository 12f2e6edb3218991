package io.fetchbus;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import io.fetchbus.bus.Bus;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.config.Settings;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a clustered node does when Hazelcast sees a member leave (its process died, or it stayed silent past
 * Hazelcast's heartbeat timeout): the oldest member left asks the store to give that node's crawl leases back to
 * the frontier at once ({@link Bus#FRONTIER_RELEASE} with {@code "node"}), instead of letting them run out
 * {@code crawl.leaseMs} and wait for the next reap. The attempt counts, as for an expired lease. A node that is still
 * connected to PostgreSQL is alive (the other half of a split, or frozen): its leases are left alone, since this half
 * would fetch those pages again; it renews them, or they run out. A node released and then back is fenced as after
 * an expired lease: its leases' tokens are gone, so its late results are refused and nothing is stored twice. Should the store not answer, the reaper still returns the
 * leases when they expire.
 */
final class ClusterMembers implements MembershipListener {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterMembers.class);
  private static final int ATTEMPTS = 3;
  /** The member attribute vertx-hazelcast keeps a node's Vert.x id in. */
  private static final String VERTX_NODE_ID = "__vertx.nodeId";

  private final Vertx vertx;
  private final Context context;
  private final HazelcastInstance hazelcast;
  private final int maxAttempts;
  private final DeliveryOptions delivery;
  private UUID registration;

  ClusterMembers(Vertx vertx, Context context, HazelcastInstance hazelcast, JsonObject cfg) {
    this.vertx = vertx;
    this.context = context;
    this.hazelcast = hazelcast;
    this.maxAttempts = Settings.number(cfg, "crawl", "maxAttempts").intValue();
    this.delivery = new DeliveryOptions().setSendTimeout(
        Settings.storeTimeoutMs(cfg));
  }

  void start() {
    registration = hazelcast.getCluster().addMembershipListener(this);
  }

  void stop() {
    if (registration != null) {
      hazelcast.getCluster().removeMembershipListener(registration);
      registration = null;
    }
  }

  @Override
  public void memberAdded(MembershipEvent event) {
    // Nothing to do: a node that joins claims work of its own.
  }

  /** Runs on a Hazelcast thread: the release goes to this node's context. */
  @Override
  public void memberRemoved(MembershipEvent event) {
    // Vert.x's node id (the one lease owners start with) is an attribute of the Hazelcast member, not its UUID.
    String node = event.getMember().getAttribute(VERTX_NODE_ID);
    if (node == null) {
      return; // not a Vert.x node (a plain Hazelcast member): it held no leases
    }
    // One member asks, not every one: the oldest of those left (Hazelcast lists the members oldest first).
    boolean oldest = event.getMembers().stream().findFirst().map(m -> m.localMember()).orElse(false);
    if (oldest) {
      context.runOnContext(v -> release(node, ATTEMPTS));
    }
  }

  private Future<Void> release(String node, int attemptsLeft) {
    JsonObject req = new JsonObject().put("node", node).put("maxAttempts", maxAttempts);
    return MemberRouter.<JsonObject>request(vertx, Bus.FRONTIER_RELEASE, req, delivery)
        .compose(reply -> {
          if (!reply.body().getBoolean("connected", false)) {
            LOG.info("node {} left the cluster: released its {} crawl leases", node, reply.body().getInteger("released"));
            return Future.<Void>succeededFuture();
          }
          if (attemptsLeft > 1) {
            // A node that died a moment ago may still show its sessions while PostgreSQL ends them.
            return vertx.timer(1_000).compose(t -> release(node, attemptsLeft - 1));
          }
          LOG.info("node {} left the cluster but is still connected to PostgreSQL (a split, or a freeze): its crawl "
              + "leases stay with it until it renews them or they end", node);
          return Future.<Void>succeededFuture();
        })
        .recover(err -> {
          if (attemptsLeft <= 1) {
            LOG.warn("node {} left the cluster, and its crawl leases could not be released ({}): they return to the "
                + "frontier when they expire", node, err.getMessage());
            return Future.succeededFuture();
          }
          return vertx.timer(1_000).compose(t -> release(node, attemptsLeft - 1));
        });
  }
}
