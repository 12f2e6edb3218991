package io.fetchbus.fetch;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failures;
import io.fetchbus.bus.Rendezvous;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which fetch node owns which origin, so that each origin is fetched from one node of the cluster and that node's
 * {@link HostLimiter} holds its per-host limits for the whole cluster; and the forwarding of a request to its owner.
 * One per Vert.x instance, shared by its fetch verticles.
 * <p>
 * Every fetch node publishes a heartbeat with its id on {@link Bus#FETCH_NODES} every {@code cluster.heartbeatMs},
 * and keeps the ids it heard from in the last {@code cluster.nodeTimeoutMs}: that set, with itself, is its view of
 * the live fetch nodes. The owner of an origin is chosen by {@link Rendezvous} hashing over the view (the node with
 * the highest hash of origin and node id), so a node that joins or leaves moves only the origins it wins or held.
 * Hazelcast does the membership of the cluster; the heartbeats only say which nodes are fetching right now (a node
 * whose event loops stall stops beating, and its origins move). A node alone is the owner of everything.
 * <p>
 * A split cluster is two (or more) clusters on one database, each with its own heartbeats: each half would own
 * every origin. While the split check of a store node of this half reports nodes outside it ({@link Bus#CLUSTER_SPLIT},
 * within the last three {@code cluster.splitCheckMs}), the owner of an origin is hashed the same way over the
 * <em>owners</em> that check reports instead: the fetch nodes the database sees working, in either half, the same
 * list for both. An origin whose owner is in this half (this node, or a node it hears) is fetched there, with the
 * whole per-host limit; one whose owner is in the other half is not fetched here at all ({@link #ownerOf} is null).
 * When the split heals, the checks report nobody outside, and ownership is the heartbeats' again.
 * <p>
 * State is plain data behind this object's lock, never held for I/O. The heartbeat timer and consumer run on the
 * context of the first fetch verticle that starts; every fetch verticle of a node is deployed and undeployed
 * together.
 */
final class FetchOwners implements Shareable {
  private static final Logger LOG = LoggerFactory.getLogger(FetchOwners.class);

  private final Vertx vertx;
  private final String self;
  private final long heartbeatMs;
  private final long nodeTimeoutMs;
  private final HostLimiter limiter;
  /** The other live fetch nodes: id -> when its last heartbeat arrived. */
  private final Map<String, Long> lastSeen = new HashMap<>();
  /** Callbacks of requests forwarded to a node, run if it leaves the view before they are answered. */
  private final Map<String, List<Runnable>> departures = new HashMap<>();
  /** The owners in a split, as each store node of this half last reported them, and when. */
  private final Map<String, SplitReport> splitReports = new HashMap<>();
  private final long splitReportMs;
  private int users;
  private Future<Void> started;
  private MessageConsumer<JsonObject> consumer;
  private MessageConsumer<JsonObject> splitConsumer;

  private record SplitReport(long at, List<String> owners) {}
  private long timer = -1;

  private FetchOwners(Vertx vertx, String self, long heartbeatMs, long nodeTimeoutMs, long splitCheckMs,
                      HostLimiter limiter) {
    this.vertx = vertx;
    this.self = self;
    this.heartbeatMs = heartbeatMs;
    this.nodeTimeoutMs = nodeTimeoutMs;
    // A report stands for three checks: one lost or late changes nothing, a store node that died stops counting.
    this.splitReportMs = 3 * Math.max(0, splitCheckMs);
    this.limiter = limiter;
  }

  static FetchOwners shared(Vertx vertx, JsonObject config, HostLimiter limiter) {
    JsonObject cluster = config.getJsonObject("cluster", new JsonObject());
    long heartbeatMs = cluster.getLong("heartbeatMs", 1_000L);
    long nodeTimeoutMs = cluster.getLong("nodeTimeoutMs", 3_000L);
    long splitCheckMs = cluster.getLong("splitCheckMs", 5_000L);
    if (heartbeatMs <= 0 || nodeTimeoutMs <= heartbeatMs) {
      throw new IllegalArgumentException("cluster.heartbeatMs must be positive and below cluster.nodeTimeoutMs");
    }
    Object id = vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_ID);
    String self = id instanceof String s ? s : UUID.randomUUID().toString();
    return vertx.sharedData().<String, FetchOwners>getLocalMap("fetchbus.fetch").computeIfAbsent("owners",
        k -> new FetchOwners(vertx, self, heartbeatMs, nodeTimeoutMs, splitCheckMs, limiter));
  }

  String self() {
    return self;
  }

  /**
   * Joins the fetch nodes: listens to their heartbeats and announces this one. Clustered, it completes one
   * heartbeat period later, by when every live node has been heard, so that a node that joins does not take
   * requests while it still believes it owns every origin.
   */
  synchronized Future<Void> start() {
    users++;
    if (started == null) {
      consumer = vertx.eventBus().consumer(Bus.FETCH_NODES, this::heard);
      splitConsumer = vertx.eventBus().consumer(Bus.CLUSTER_SPLIT, this::splitReported);
      timer = vertx.setPeriodic(heartbeatMs, t -> {
        expire();
        beat();
      });
      started = Future.all(consumer.completion(), splitConsumer.completion()).<Void>mapEmpty()
          .onSuccess(v -> beat())
          .compose(v -> vertx.isClustered() ? vertx.timer(heartbeatMs + 100).<Void>mapEmpty() : Future.<Void>succeededFuture());
    }
    return started;
  }

  /** The last fetch verticle of the node to stop says it is leaving, so the others move its origins at once. */
  Future<Void> stop() {
    MessageConsumer<JsonObject> toClose;
    synchronized (this) {
      if (--users > 0 || started == null) {
        return Future.succeededFuture();
      }
      started = null;
      vertx.cancelTimer(timer);
      toClose = consumer;
      splitConsumer.unregister();
    }
    // Unregistered first, so that this node's own consumer is not handed its farewell while it goes away.
    return toClose.unregister().onComplete(v ->
        vertx.eventBus().publish(Bus.FETCH_NODES, new JsonObject().put("node", self).put("leaving", true)));
  }

  /**
   * The node that fetches {@code origin}: this one, or one of the live fetch nodes it hears; null during a split when
   * its owner is a node outside this half, and the origin must not be fetched here.
   */
  synchronized String ownerOf(String origin) {
    List<String> splitOwners = splitOwners();
    if (splitOwners != null) {
      String owner = Rendezvous.owner(origin, splitOwners);
      return owner.equals(self) || lastSeen.containsKey(owner) ? owner : null;
    }
    if (lastSeen.isEmpty()) {
      return self;
    }
    List<String> nodes = new ArrayList<>(lastSeen.keySet());
    nodes.add(self);
    return Rendezvous.owner(origin, nodes);
  }

  /**
   * Runs {@code gone} (on the thread that notices, once) if {@code node} leaves the view; returns what cancels
   * that, or null when the node is not in the view now (it left already: {@code gone} is not run).
   */
  private synchronized Runnable whenGone(String node, Runnable gone) {
    if (!lastSeen.containsKey(node)) {
      return null;
    }
    List<Runnable> list = departures.computeIfAbsent(node, k -> new ArrayList<>());
    list.add(gone);
    return () -> {
      synchronized (FetchOwners.this) {
        List<Runnable> current = departures.get(node);
        if (current != null) {
          current.remove(gone);
          if (current.isEmpty()) {
            departures.remove(node);
          }
        }
      }
    };
  }

  /**
   * Hands {@code msg} to {@code owner}, the owner of its origin, marked as forwarded, and relays the answer. If
   * the owner has no handler any more, or leaves the view before it answers (it died, and its requests upstream
   * with it), {@code serveHere} runs instead: a fetch is a GET, safe to send again. Runs on {@code context}, the
   * calling verticle's.
   */
  void forward(Message<JsonObject> msg, String owner, long timeoutMs, Context context, Runnable serveHere) {
    String requestId = msg.headers().get(Bus.REQUEST_ID);
    Promise<Void> settled = Promise.promise();
    Runnable cancelWatch = whenGone(owner, () -> context.runOnContext(v -> {
      if (settled.tryComplete()) {
        LOG.debug("fetch node {} left before answering; serving here [request {}]", owner, requestId);
        serveHere.run();
      }
    }));
    if (cancelWatch == null) {
      serveHere.run(); // it left between choosing it and now
      return;
    }
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(timeoutMs).addHeader(Bus.FORWARDED, self);
    if (requestId != null) {
      options.addHeader(Bus.REQUEST_ID, requestId);
    }
    // Whichever comes first settles the request: the owner's answer, or its leaving (then a late answer is dropped).
    vertx.eventBus().<JsonObject>request(Bus.fetchNode(owner), msg.body(), options)
        .onSuccess(reply -> {
          if (settled.tryComplete()) {
            cancelWatch.run();
            msg.reply(reply.body());
          }
        })
        .onFailure(err -> {
          if (!settled.tryComplete()) {
            return;
          }
          cancelWatch.run();
          if (err instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
            LOG.debug("fetch node {} has no handler; serving here [request {}]", owner, requestId);
            serveHere.run();
          } else {
            Failures.reply(msg, err);
          }
        });
  }

  /**
   * Under the lock: the owners in a split, as the store node with the smallest id reported them within the last three
   * checks (so that every node of a half takes the same list); null when none reported a split.
   */
  private List<String> splitOwners() {
    long oldest = System.currentTimeMillis() - splitReportMs;
    splitReports.values().removeIf(r -> r.at() < oldest);
    return splitReports.isEmpty() ? null : splitReports.get(splitReports.keySet().stream().sorted().findFirst().get()).owners();
  }

  /** A store node's split check: owners while it sees a split, none when it does not (its report is withdrawn). */
  private void splitReported(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    String node = body == null ? null : body.getString("node");
    if (node == null || splitReportMs == 0) {
      return;
    }
    List<String> owners = new ArrayList<>();
    body.getJsonArray("owners", new io.vertx.core.json.JsonArray()).forEach(o -> owners.add(String.valueOf(o)));
    boolean changed;
    synchronized (this) {
      SplitReport before = owners.isEmpty() ? splitReports.remove(node)
          : splitReports.put(node, new SplitReport(System.currentTimeMillis(), List.copyOf(owners)));
      boolean wasSplit = before != null;
      changed = wasSplit == owners.isEmpty() || (wasSplit && !before.owners().equals(owners));
    }
    if (changed) {
      if (owners.isEmpty()) {
        LOG.info("the split check of node {} sees no split: the origins are owned as the heartbeats say", node);
      } else {
        LOG.warn("the split check of node {} sees a split: each origin is owned by one of {} (by hash), whichever half "
            + "it is in; this node fetches only those its half owns", node, String.join(", ", owners));
      }
    }
  }

  /** The live fetch nodes this node hears, itself excluded. */
  synchronized List<String> others() {
    return List.copyOf(lastSeen.keySet());
  }

  /** A node that is shutting down stops announcing itself: the others take its origins over while it drains. */
  private void beat() {
    if (vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_SHUTDOWN_DEADLINE) != null) {
      return;
    }
    vertx.eventBus().publish(Bus.FETCH_NODES, new JsonObject().put("node", self)
        .put("fetches", limiter.started()).put("inFlight", limiter.inFlight()));
  }

  private void heard(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    String node = body == null ? null : body.getString("node");
    if (node == null || node.equals(self)) {
      return;
    }
    if (body.getBoolean("leaving", false)) {
      left(node, "it is stopping");
      return;
    }
    int size;
    synchronized (this) {
      if (lastSeen.put(node, System.currentTimeMillis()) != null) {
        return;
      }
      size = lastSeen.size() + 1;
    }
    LOG.info("fetch node {} joined; {} fetch nodes share the origins", node, size);
    beat(); // so that a node that has just joined hears this one at once
  }

  private void expire() {
    long oldest = System.currentTimeMillis() - nodeTimeoutMs;
    List<String> gone = new ArrayList<>();
    synchronized (this) {
      lastSeen.forEach((node, at) -> {
        if (at < oldest) {
          gone.add(node);
        }
      });
    }
    gone.forEach(node -> left(node, "no heartbeat for " + nodeTimeoutMs + " ms"));
  }

  private void left(String node, String why) {
    List<Runnable> callbacks;
    int size;
    synchronized (this) {
      if (lastSeen.remove(node) == null) {
        return;
      }
      callbacks = departures.remove(node);
      size = lastSeen.size() + 1;
    }
    LOG.info("fetch node {} left ({}); {} fetch nodes share the origins", node, why, size);
    if (callbacks != null) {
      callbacks.forEach(Runnable::run);
    }
  }
}
