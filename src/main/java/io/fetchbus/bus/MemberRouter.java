package io.fetchbus.bus;

import io.fetchbus.config.Settings;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a request for an address of a Fetchbus role ({@link Bus#roleServing}) goes in a cluster, and what a member
 * that stops answering costs.
 * <ul>
 * <li>A node that runs the role serves its own requests ({@link DeliveryOptions#setLocalOnly}): the work is
 *     stateless on the serving side (PostgreSQL holds the state), so any node that has the role does it as well.
 * <li>A node that does not run it sends the request to one live member that does, round-robin, at that member's
 *     own address ({@link Bus#member}); the member hands it to its verticles and relays the answer. Members are
 *     known from their heartbeats ({@link Bus#MEMBERS}): one not heard for {@code cluster.nodeTimeoutMs} gets
 *     nothing. (The clustered event bus alone would hand requests round-robin to every member that registered the
 *     address, a frozen one too, until Hazelcast drops it, 60 s by default.) A member heard for the first time is
 *     pinged at its address, and gets requests once it answered: the first message to an address makes the event
 *     bus look its registrations up in Hazelcast, and while another member is frozen that lookup can wait for it
 *     (it may hold that part of Hazelcast's map); after the first, the event bus keeps them up to date itself.
 * <li>Each member has a circuit, fed by the answers: a request that times out or finds no handler there opens it
 *     for {@code cluster.circuitOpenMs}, and nothing is sent there meanwhile. Then one request, the probe, may go;
 *     if the member answers it (even with a failure of its own, such as a 404), the circuit closes; if not, it
 *     opens again.
 * <li>A request that found no handler on a member was not delivered: it goes to another member. One that timed out
 *     on a member (whose circuit is open from then on) goes once to another member if it is {@link Bus#idempotent},
 *     and otherwise fails with the timeout, its sender deciding.
 * <li>While every live member of the role has its circuit open, requests fail at once with 503. While no member of
 *     the role has answered its ping (its first heartbeats), the cluster chooses, as it would without this class.
 * </ul>
 * Not clustered, everything goes as the event bus sends it. One instance per Vert.x instance, made by
 * {@link #start}; its state is a few maps behind its lock, never held for I/O.
 */
public final class MemberRouter implements Shareable {
  private static final Logger LOG = LoggerFactory.getLogger(MemberRouter.class);
  private static final String SHARED_MAP = "fetchbus.bus";
  private static final String KEY = "memberRouter";
  /** The wait a relayed request gets when its sender did not say (it always does). */
  private static final long DEFAULT_RELAY_TIMEOUT_MS = 30_000;

  private final Vertx vertx;
  private final String self;
  private final long heartbeatMs;
  private final long nodeTimeoutMs;
  private final long circuitOpenMs;
  /** Members heard from, and members whose circuit is still open. */
  private final Map<String, Member> members = new HashMap<>();
  private final AtomicLong rerouted = new AtomicLong();
  private long turn;
  private MessageConsumer<JsonObject> heartbeats;
  private final List<MessageConsumer<Object>> relays = new ArrayList<>();
  private long timer = -1;
  private boolean announcing;

  /** A member: its roles, when it was last heard, and its circuit (closed while {@code openUntil} is 0). */
  private static final class Member {
    final String id;
    Set<String> roles = Set.of();
    long lastSeen;
    /** It answered a ping at its address: the event bus knows where that address is. */
    boolean reachable;
    boolean pinging;
    long openUntil;
    boolean probing;

    Member(String id) {
      this.id = id;
    }
  }

  private MemberRouter(Vertx vertx, String self, long heartbeatMs, long nodeTimeoutMs, long circuitOpenMs) {
    this.vertx = vertx;
    this.self = self;
    this.heartbeatMs = heartbeatMs;
    this.nodeTimeoutMs = nodeTimeoutMs;
    this.circuitOpenMs = circuitOpenMs;
  }

  /**
   * The node's router, listening to the other members' heartbeats from now on ({@code cluster.heartbeatMs},
   * {@code cluster.nodeTimeoutMs}, {@code cluster.circuitOpenMs} of {@code config}). It neither serves requests nor
   * announces this node until {@link #announce}. Clustered nodes only.
   */
  public static Future<MemberRouter> start(Vertx vertx, JsonObject config) {
    long heartbeatMs = Settings.number(config, "cluster", "heartbeatMs").longValue();
    long nodeTimeoutMs = Settings.number(config, "cluster", "nodeTimeoutMs").longValue();
    long circuitOpenMs = Settings.number(config, "cluster", "circuitOpenMs").longValue();
    if (heartbeatMs <= 0 || nodeTimeoutMs <= heartbeatMs || circuitOpenMs <= 0) {
      return Future.failedFuture(new IllegalArgumentException("cluster.heartbeatMs must be positive and below "
          + "cluster.nodeTimeoutMs, and cluster.circuitOpenMs positive"));
    }
    String self = (String) vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_ID);
    MemberRouter router = new MemberRouter(vertx, self, heartbeatMs, nodeTimeoutMs, circuitOpenMs);
    vertx.sharedData().getLocalMap(SHARED_MAP).put(KEY, router);
    router.heartbeats = vertx.eventBus().consumer(Bus.MEMBERS, router::heard);
    router.timer = vertx.setPeriodic(heartbeatMs, t -> router.beat());
    return router.heartbeats.completion().map(router);
  }

  /**
   * From now on this node serves requests sent to its own address (on every event loop: the relay decodes bodies)
   * and says it is alive every {@code cluster.heartbeatMs}, so the others send it the requests of its roles.
   */
  public Future<Void> announce(int relayCount) {
    List<Future<?>> registered = new ArrayList<>();
    for (int i = 0; i < relayCount; i++) {
      // A context of its own for each (internal API: outside a verticle, the only way to pick a new event loop), so
      // that the relays' work, decoding the bodies above all, spreads over the event loops.
      var context = ((io.vertx.core.internal.VertxInternal) vertx).createEventLoopContext();
      registered.add(Future.future(p -> context.runOnContext(v -> {
        MessageConsumer<Object> relay = vertx.eventBus().consumer(Bus.member(self), this::relay);
        synchronized (this) {
          relays.add(relay);
        }
        relay.completion().onComplete(p);
      })));
    }
    return Future.all(registered).onSuccess(v -> {
      synchronized (this) {
        announcing = true;
      }
      beat();
    }).mapEmpty();
  }

  /** This node begins to shut down: it says so once, so the others send it nothing new, and falls silent. */
  public void leave() {
    synchronized (this) {
      if (!announcing) {
        return;
      }
      announcing = false;
    }
    vertx.eventBus().publish(Bus.MEMBERS, new JsonObject().put("node", self).put("leaving", true));
  }

  /** Stops listening and relaying; requests go as the event bus sends them. */
  public void stop() {
    leave();
    vertx.cancelTimer(timer);
    vertx.sharedData().getLocalMap(SHARED_MAP).remove(KEY, this);
    if (heartbeats != null) {
      heartbeats.unregister();
    }
    synchronized (this) {
      relays.forEach(MessageConsumer::unregister);
      relays.clear();
    }
  }

  /** Members whose circuit is open now. */
  public synchronized int openCircuits() {
    long now = System.currentTimeMillis();
    return (int) members.values().stream().filter(m -> m.openUntil > now).count();
  }

  /** Requests sent to a second member after the first did not answer or had no handler. */
  public long rerouted() {
    return rerouted.get();
  }

  /** {@code EventBus.request}, routed as the class comment says. */
  public static <T> Future<Message<T>> request(Vertx vertx, String address, Object body, DeliveryOptions options) {
    EventBus bus = vertx.eventBus();
    String role = Bus.roleServing(address);
    if (!vertx.isClustered() || options.isLocalOnly()) {
      return bus.request(address, body, options);
    }
    if (role != null && runs(vertx, role)) {
      return bus.request(address, body, new DeliveryOptions(options).setLocalOnly(true));
    }
    // From here the request may leave this JVM: a body handed over within it goes as Vert.x's own JSON.
    DeliveryOptions wire = HandedOverJson.forTheWire(options);
    MemberRouter router = role == null ? null : (MemberRouter) vertx.sharedData().getLocalMap(SHARED_MAP).get(KEY);
    return router == null ? bus.request(address, body, wire) : router.route(address, role, body, wire, null, null);
  }

  /** Whether this node serves {@code address} itself: it runs the role of that address ({@link Bus#NODE_ROLES}). */
  public static boolean servedHere(Vertx vertx, String address) {
    String role = Bus.roleServing(address);
    return role != null && runs(vertx, role);
  }

  private static boolean runs(Vertx vertx, String role) {
    return vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_ROLES) instanceof String roles
        && (',' + roles + ',').contains(',' + role + ',');
  }

  /**
   * Sends to a live member of {@code role} other than {@code failedOn} (the member a first try failed on, with
   * {@code firstFailure}), and learns from the answer.
   */
  private <T> Future<Message<T>> route(String address, String role, Object body, DeliveryOptions options,
                                       String failedOn, ReplyException firstFailure) {
    long now = System.currentTimeMillis();
    Member chosen;
    boolean probe;
    boolean anyLive;
    synchronized (this) {
      List<Member> ready = new ArrayList<>();
      Member halfOpen = null;
      anyLive = false;
      for (Member m : members.values()) {
        if (!m.reachable || !m.roles.contains(role) || now - m.lastSeen > nodeTimeoutMs) {
          continue;
        }
        anyLive = true;
        if (m.id.equals(failedOn)) {
          continue;
        }
        if (m.openUntil == 0) {
          ready.add(m);
        } else if (now >= m.openUntil && !m.probing && halfOpen == null) {
          halfOpen = m;
        }
      }
      probe = halfOpen != null;
      if (probe) {
        halfOpen.probing = true; // one request at a time finds out whether it answers again
        chosen = halfOpen;
      } else if (!ready.isEmpty()) {
        ready.sort(Comparator.comparing(m -> m.id));
        chosen = ready.get((int) (turn++ % ready.size()));
      } else {
        chosen = null;
      }
    }
    if (chosen == null) {
      if (firstFailure != null) {
        return Future.failedFuture(firstFailure);
      }
      if (!anyLive) {
        return vertx.eventBus().request(address, body, options); // none answered a ping yet: the cluster chooses
      }
      return Future.failedFuture(Failure.UNAVAILABLE.exception("no member that runs the " + role
          + " role answers now (each one's circuit is open after a timeout); retry later"));
    }
    DeliveryOptions routed = new DeliveryOptions(options).addHeader(Bus.ROUTED_ADDRESS, address)
        .addHeader(Bus.ROUTED_TIMEOUT, String.valueOf(options.getSendTimeout()));
    String member = chosen.id;
    return vertx.eventBus().<T>request(Bus.member(member), body, routed).transform(ar -> {
      ReplyFailure failure = ar.failed() && ar.cause() instanceof ReplyException re ? re.failureType() : null;
      if (failure != ReplyFailure.TIMEOUT && failure != ReplyFailure.NO_HANDLERS) {
        answered(member, probe); // an answer, even a failure of the member's own: it is alive
        return ar.succeeded() ? Future.succeededFuture(ar.result()) : Future.failedFuture(ar.cause());
      }
      ReplyException err = (ReplyException) ar.cause();
      opened(member, address, failure);
      // No handler: never delivered, so safe anywhere. A timeout: the member may have done it, or may when it wakes.
      boolean again = failedOn == null && (failure == ReplyFailure.NO_HANDLERS || Bus.idempotent(address, body));
      if (!again) {
        return Future.failedFuture(err);
      }
      rerouted.incrementAndGet();
      LOG.debug("request to {} failed on member {} ({}): sending it to another member", address, member, failure);
      return route(address, role, body, options, member, err);
    });
  }

  private synchronized void answered(String member, boolean probe) {
    Member m = members.get(member);
    if (m == null || !probe) {
      return; // an open circuit closes on its probe's answer only, not on a late answer to an older request
    }
    m.probing = false;
    if (m.openUntil != 0) {
      m.openUntil = 0;
      LOG.info("member {} answers again: its circuit is closed", member);
    }
  }

  private void opened(String member, String address, ReplyFailure why) {
    boolean wasClosed;
    synchronized (this) {
      Member m = members.computeIfAbsent(member, Member::new);
      wasClosed = m.openUntil == 0;
      m.openUntil = System.currentTimeMillis() + circuitOpenMs;
      m.probing = false;
    }
    if (wasClosed) {
      LOG.warn("member {} did not answer a request to {} ({}): its circuit is open, no request goes there for {} ms, "
          + "then one tries it", member, address, why == ReplyFailure.TIMEOUT ? "timeout" : "no handler", circuitOpenMs);
    }
  }

  /**
   * A request for one of this node's roles, sent to its own address: handed to its own verticles, the answer
   * relayed, a failure with its kind (so that the sender sees a missing handler as one).
   */
  private void relay(Message<Object> msg) {
    String address = msg.headers().get(Bus.ROUTED_ADDRESS);
    if (address == null) {
      msg.reply(new JsonObject().put("node", self)); // a ping
      return;
    }
    if (!servedHere(vertx, address)) {
      msg.reply(new ReplyException(ReplyFailure.NO_HANDLERS, "node " + self + " does not serve " + address));
      return;
    }
    long timeoutMs;
    try {
      timeoutMs = Long.parseLong(msg.headers().get(Bus.ROUTED_TIMEOUT));
    } catch (NumberFormatException e) {
      timeoutMs = DEFAULT_RELAY_TIMEOUT_MS;
    }
    DeliveryOptions local = new DeliveryOptions().setLocalOnly(true).setSendTimeout(Math.max(1, timeoutMs));
    msg.headers().forEach(h -> {
      if (!h.getKey().equals(Bus.ROUTED_ADDRESS) && !h.getKey().equals(Bus.ROUTED_TIMEOUT)) {
        local.addHeader(h.getKey(), h.getValue());
      }
    });
    vertx.eventBus().request(address, msg.body(), local).onComplete(ar -> {
      if (ar.succeeded()) {
        msg.reply(ar.result().body());
      } else if (ar.cause() instanceof ReplyException re) {
        msg.reply(re); // a ReplyException as the answer fails the sender's request with its kind and code
      } else {
        FailureReplies.reply(msg, ar.cause());
      }
    });
  }

  /** Announces this node (once deployed, until it leaves) and forgets members long silent. */
  private void beat() {
    boolean announce;
    long now = System.currentTimeMillis();
    synchronized (this) {
      announce = announcing;
      // A silent member is kept while its circuit is open, so that if it comes back its first request is a probe.
      members.values().removeIf(m -> now - m.lastSeen > nodeTimeoutMs && m.openUntil < now);
    }
    if (announce) {
      Object roles = vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_ROLES);
      vertx.eventBus().publish(Bus.MEMBERS, new JsonObject().put("node", self).put("roles", roles));
    }
  }

  private void heard(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    String node = body == null ? null : body.getString("node");
    if (node == null || node.equals(self)) {
      return;
    }
    boolean ping = false;
    synchronized (this) {
      if (body.getBoolean("leaving", false)) {
        members.remove(node);
      } else {
        Member m = members.computeIfAbsent(node, Member::new);
        m.lastSeen = System.currentTimeMillis();
        m.roles = Set.copyOf(List.of(String.valueOf(body.getValue("roles", "")).split(",")));
        if (!m.reachable && !m.pinging) {
          m.pinging = true;
          ping = true;
        }
      }
    }
    if (body.getBoolean("leaving", false)) {
      LOG.info("member {} is leaving: no more requests go there", node);
    } else if (ping) {
      ping(node, String.valueOf(body.getValue("roles")));
    }
  }

  /** Asks a member heard for the first time to answer at its address: until it does, it is sent no request. */
  private void ping(String node, String roles) {
    vertx.eventBus().request(Bus.member(node), null, new DeliveryOptions().setSendTimeout(nodeTimeoutMs))
        .onComplete(ar -> {
          synchronized (this) {
            Member m = members.get(node);
            if (m == null) {
              return;
            }
            m.pinging = false;
            m.reachable = ar.succeeded();
          }
          if (ar.succeeded()) {
            LOG.info("member {} answers at its address and serves {}", node, roles);
          } else {
            LOG.debug("member {} did not answer a ping ({}); it is pinged again at its next heartbeat", node,
                ar.cause().getMessage());
          }
        });
  }
}
