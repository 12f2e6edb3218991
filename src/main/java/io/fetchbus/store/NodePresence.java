package io.fetchbus.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One idle PostgreSQL session named {@code fetchbus/<node id>}, held by a clustered node without the store role
 * when it is given {@code pg.url}. A store node's own sessions tell the cluster that it is alive even when Hazelcast
 * no longer sees it (a split, a freeze): its crawl leases are then left alone ({@code fetchbus.frontier.release}).
 * A crawl-only node has no store sessions, so without this one the other half of a split would release the leases
 * it still works under, and fetch those pages a second time (its late results being refused by their fence).
 * <p>
 * The session runs no query and holds no lock; when it is lost (PostgreSQL restarted), it is opened again, at most
 * every {@link #MAX_BACKOFF_MS}. A node that dies loses it with its process, as a store node loses its pool.
 */
public final class NodePresence {
  private static final Logger LOG = LoggerFactory.getLogger(NodePresence.class);
  private static final long MAX_BACKOFF_MS = 30_000;

  private final Vertx vertx;
  private final JsonObject config;
  private PgConnection session;
  private long backoffMs = 500;
  private long timer = -1;
  private boolean stopped;

  private NodePresence(Vertx vertx, JsonObject config) {
    this.vertx = vertx;
    this.config = config;
  }

  /** Opens the session (on the caller's context); completes once it is open, or at once if it cannot be yet. */
  public static Future<NodePresence> start(Vertx vertx, JsonObject config) {
    NodePresence presence = new NodePresence(vertx, config);
    return presence.open().map(presence);
  }

  private Future<Void> open() {
    return PgConnection.connect(vertx, StoreConnections.options(vertx, config))
        .onSuccess(conn -> {
          if (stopped) {
            conn.close();
            return;
          }
          session = conn;
          backoffMs = 500;
          conn.closeHandler(v -> {
            session = null;
            again();
          });
        })
        .onFailure(err -> {
          LOG.debug("could not open this node's presence session in PostgreSQL: {}", err.getMessage());
          again();
        })
        .<Void>mapEmpty()
        .otherwiseEmpty();
  }

  private void again() {
    if (stopped) {
      return;
    }
    timer = vertx.setTimer(backoffMs, t -> open());
    backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
  }

  /** Closes the session: the node's crawl leases may be released once it has left the cluster. */
  public Future<Void> stop() {
    stopped = true;
    vertx.cancelTimer(timer);
    PgConnection open = session;
    session = null;
    return open == null ? Future.succeededFuture() : open.close().otherwiseEmpty();
  }
}
