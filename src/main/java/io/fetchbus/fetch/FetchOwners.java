package io.fetchbus.fetch;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.FailureReplies;
import io.fetchbus.bus.Rendezvous;
import io.fetchbus.config.Settings;
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
 * the live fetch nodes. The owner of an origin is chosen by {@link Rendezvous} hashing of its bucket over the view
 * ({@link Rendezvous#ownerOfOrigin}), so a node that joins or leaves moves only the origins it wins or held.
 * Hazelcast does the membership of the cluster; the heartbeats only say which nodes are fetching right now (a node
 * whose event loops stall stops beating, and its origins move). A node alone is the owner of everything.
 * <p>
 * The view decides where a request goes and which origin leases a node wants; whether it may fetch is the leases' decision ({@link OriginLeases}, cluster mode only):
 * a node fetches an origin only while it holds the lease of its bucket in PostgreSQL, so views that disagree (a node
 * that joins or stalls, a split cluster whose halves each believe they own every origin) can delay a fetch or
 * refuse it, but never let two nodes fetch one origin at once.
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
  /** The origin leases, in cluster mode; null alone. */
  private final OriginLeases leases;
  private int users;
  private Future<Void> started;
  private MessageConsumer<JsonObject> consumer;
  private long timer = -1;

  private FetchOwners(Vertx vertx, String self, long heartbeatMs, long nodeTimeoutMs, long leaseMs, HostLimiter limiter) {
    this.vertx = vertx;
    this.self = self;
    this.heartbeatMs = heartbeatMs;
    this.nodeTimeoutMs = nodeTimeoutMs;
    this.limiter = limiter;
    this.leases = vertx.isClustered() ? new OriginLeases(vertx, self, leaseMs, limiter, this::nodes) : null;
    if (leases != null) {
      leases.gate(); // from the first request on, forwarded ones included, nothing is fetched without a lease
    }
  }

  static FetchOwners shared(Vertx vertx, JsonObject config, HostLimiter limiter) {
    long heartbeatMs = Settings.number(config, "cluster", "heartbeatMs").longValue();
    long nodeTimeoutMs = Settings.number(config, "cluster", "nodeTimeoutMs").longValue();
    if (heartbeatMs <= 0 || nodeTimeoutMs <= heartbeatMs) {
      throw new IllegalArgumentException("cluster.heartbeatMs must be positive and below cluster.nodeTimeoutMs");
    }
    long leaseMs = OriginLeases.leaseMs(config);
    Object id = vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_ID);
    String self = id instanceof String s ? s : UUID.randomUUID().toString();
    return vertx.sharedData().<String, FetchOwners>getLocalMap("fetchbus.fetch").computeIfAbsent("owners",
        k -> new FetchOwners(vertx, self, heartbeatMs, nodeTimeoutMs, leaseMs, limiter));
  }

  String self() {
    return self;
  }

  /**
   * Joins the fetch nodes: listens to their heartbeats and announces this one. Clustered, it completes one
   * heartbeat period later, by when every live node has been heard, so that a node that joins does not take
   * requests while it still believes it owns every origin; and the origin leases start (on {@code context}).
   */
  synchronized Future<Void> start(Context context) {
    users++;
    if (started == null) {
      consumer = vertx.eventBus().consumer(Bus.FETCH_NODES, this::heard);
      timer = vertx.setPeriodic(heartbeatMs, t -> {
        expire();
        beat();
      });
      started = consumer.completion()
          .onSuccess(v -> beat())
          .compose(v -> vertx.isClustered() ? vertx.timer(heartbeatMs + 100).<Void>mapEmpty() : Future.<Void>succeededFuture())
          .onSuccess(v -> {
            if (leases != null) {
              leases.start(context);
            }
          });
    }
    return started;
  }

  /**
   * The last fetch verticle of the node to stop says it is leaving, so the others move its origins at once, and gives
   * its origin leases back, so that they need not wait for them to run out.
   */
  Future<Void> stop() {
    MessageConsumer<JsonObject> toClose;
    synchronized (this) {
      if (--users > 0 || started == null) {
        return Future.succeededFuture();
      }
      started = null;
      vertx.cancelTimer(timer);
      toClose = consumer;
    }
    // Unregistered first, so that this node's own consumer is not handed its farewell while it goes away.
    return toClose.unregister().onComplete(v ->
            vertx.eventBus().publish(Bus.FETCH_NODES, new JsonObject().put("node", self).put("leaving", true)))
        .transform(v -> leases == null ? Future.succeededFuture() : leases.stop());
  }

  /** The node that fetches {@code origin}: this one, or one of the live fetch nodes it hears. */
  synchronized String ownerOf(String origin) {
    return lastSeen.isEmpty() ? self : Rendezvous.ownerOfOrigin(origin, nodes());
  }

  /** The live fetch nodes this node hears, itself included: the nodes the origins are shared among. */
  synchronized List<String> nodes() {
    List<String> nodes = new ArrayList<>(lastSeen.keySet());
    nodes.add(self);
    return nodes;
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

  /** How {@link #ask} fails when the owner left the view or has no handler: the request may be served here. */
  static final RuntimeException OWNER_GONE = new RuntimeException("the fetch node left", null, false, false) {};

  /**
   * Hands {@code msg} to {@code owner}, the owner of its origin, marked as forwarded, and relays the answer. If
   * the owner has no handler any more, or leaves the view before it answers (it died, and its requests upstream
   * with it), {@code serveHere} runs instead: a fetch is a GET, safe to send again. Runs on {@code context}, the
   * calling verticle's.
   */
  void forward(Message<JsonObject> msg, String owner, long timeoutMs, Context context, Runnable serveHere) {
    String requestId = msg.headers().get(Bus.REQUEST_ID);
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(timeoutMs);
    if (requestId != null) {
      options.addHeader(Bus.REQUEST_ID, requestId);
    }
    ask(owner, msg.body(), options, context)
        .onSuccess(msg::reply)
        .onFailure(err -> {
          if (err == OWNER_GONE) {
            LOG.debug("fetch node {} left or has no handler; serving here [request {}]", owner, requestId);
            serveHere.run();
          } else {
            FailureReplies.reply(msg, err);
          }
        });
  }

  /**
   * Sends {@code body} to the fetch node {@code owner}, marked as forwarded, and completes with its answer on
   * {@code context}; fails with {@link #OWNER_GONE} if the owner has no handler, or leaves the view before it answers
   * (a late answer is dropped).
   */
  Future<JsonObject> ask(String owner, JsonObject body, DeliveryOptions options, Context context) {
    Promise<JsonObject> settled = Promise.promise();
    Runnable cancelWatch = whenGone(owner, () -> context.runOnContext(v -> settled.tryFail(OWNER_GONE)));
    if (cancelWatch == null) {
      return Future.failedFuture(OWNER_GONE); // it left between choosing it and now
    }
    // Whichever comes first settles the request: the owner's answer, or its leaving.
    vertx.eventBus().<JsonObject>request(Bus.fetchNode(owner), body, new DeliveryOptions(options)
            .addHeader(Bus.FORWARDED, self))
        .onComplete(ar -> {
          cancelWatch.run();
          if (ar.succeeded()) {
            settled.tryComplete(ar.result().body());
          } else if (ar.cause() instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
            settled.tryFail(OWNER_GONE);
          } else {
            settled.tryFail(ar.cause());
          }
        });
    return settled.future();
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
