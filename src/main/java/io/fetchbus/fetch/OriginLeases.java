package io.fetchbus.fetch;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.bus.Rendezvous;
import io.fetchbus.config.Settings;
import io.fetchbus.ops.Meters;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The origin leases of one clustered fetch node: it sends a request to an origin only while it holds the lease of
 * the origin's bucket ({@link Rendezvous#bucket}) in PostgreSQL ({@link Bus#ORIGIN_LEASES}, migration V16), so two
 * nodes never fetch one origin at once, whatever each believes about the cluster: a split, a frozen node that comes
 * back, views that disagree for a moment.
 * <p>
 * <b>What it holds.</b> The node wants the buckets it owns by rendezvous hashing over the fetch nodes it hears
 * ({@link FetchOwners}), none while it shuts down. Every {@code renewMs} (a quarter of {@code cluster.originLeaseMs};
 * every eighth of that while a bucket it wants is not held yet) it sends one round to the store: renewals of the
 * leases it holds, acquisitions of the buckets it wants, releases of those it let go. A bucket it no longer wants
 * is <em>released</em>: no new request starts under it, requests waiting for it fail with 503 (they are the new
 * owner's now), and the lease is given back once the requests in flight under it are over.
 * <p>
 * <b>Why it is safe.</b> A lease is valid here until {@code sent + leaseMs - marginMs}, where {@code sent} is when
 * this node sent the round that acquired or renewed it, measured by this node's monotonic clock (and its wall clock:
 * both must agree); PostgreSQL sets the lease's end to {@code leaseMs} after it ran the round, by its own clock, which
 * is later. Another node can take the bucket only after that end. So this node's validity ends {@code marginMs}
 * (a fifth of the lease) before any other node's can begin, whatever the nodes' clocks say, as long as clocks advance
 * at the same rate. When a lease's validity ends without a renewal, a watchdog run every {@code renewMs / 8}
 * revokes it: no request starts under it any more, and the requests in flight under it are closed. A request is
 * also checked just before it is sent. The hot path is two array reads and two clock reads.
 * <p>
 * <b>What it costs.</b> One statement per node and round; a node alone in a cluster holds every bucket and renews
 * them in that one statement. A request waits for a lease only when its bucket has just come to this node (a node
 * joined or left); it waits at most {@code 2 * leaseMs + renewMs}, and one held by a node outside this node's view
 * that keeps renewing it (the other half of a split) is refused at once with 503. Not used outside cluster mode.
 */
final class OriginLeases implements HostLimiter.Gate {
  private static final Logger LOG = LoggerFactory.getLogger(OriginLeases.class);
  private static final int NONE = 0;
  private static final int HELD = 1;
  private static final int RELEASING = 2;

  private final Vertx vertx;
  private final String self;
  private final long leaseMs;
  private final long renewMs;
  private final long marginMs;
  private final long maxWaitMs;
  private final HostLimiter limiter;
  private final Supplier<Collection<String>> view;
  /** Sends a round to the store and answers with its reply. */
  private final Function<JsonObject, Future<JsonObject>> store;
  private final Meters meters;

  /** Until when a request may start under each bucket (monotonic and wall clock); the wall is 0 when it may not. */
  private final AtomicLongArray startNanos = new AtomicLongArray(Rendezvous.BUCKETS);
  private final AtomicLongArray startWall = new AtomicLongArray(Rendezvous.BUCKETS);
  /**
   * When this node last came to hold each bucket (wall clock, ms). The delay between two starts to an origin counts
   * from here too: the last holder's last request may have started up to the margin before (see {@link #heldSince}).
   */
  private final AtomicLongArray heldSince = new AtomicLongArray(Rendezvous.BUCKETS);
  /** Why a request for a bucket is refused at once (another node holds it and keeps it); null when it may wait. */
  private final AtomicReferenceArray<String> refusals = new AtomicReferenceArray<>(Rendezvous.BUCKETS);
  private final AtomicBoolean roundWanted = new AtomicBoolean();

  // The rest is guarded by this object's lock, never held while calling the limiter.
  private final int[] state = new int[Rendezvous.BUCKETS];
  private final long[] token = new long[Rendezvous.BUCKETS];
  /** The end of each held lease's validity here (monotonic and wall clock): the watchdog revokes it then. */
  private final long[] validNanos = new long[Rendezvous.BUCKETS];
  private final long[] validWall = new long[Rendezvous.BUCKETS];
  private final long[] releasingSince = new long[Rendezvous.BUCKETS];
  /** The holder of each bucket this node asked for in vain, its token and its lease's end by PostgreSQL's clock. */
  private final String[] otherHolder = new String[Rendezvous.BUCKETS];
  private final long[] otherToken = new long[Rendezvous.BUCKETS];
  private final long[] otherUntil = new long[Rendezvous.BUCKETS];
  /** Whether the other holder, under its present token, was seen renewing its lease. */
  private final boolean[] otherRenewed = new boolean[Rendezvous.BUCKETS];
  private Context context;
  private long watchdog = -1;
  private boolean roundInFlight;
  /** The round in flight, if any: a stop waits for it, so that it can give back what that round acquired. */
  private Future<Void> lastRoundDone = Future.succeededFuture();
  private long lastRound;
  private boolean stopped;
  private int held;

  OriginLeases(Vertx vertx, String self, long leaseMs, HostLimiter limiter, Supplier<Collection<String>> view) {
    this(vertx, self, leaseMs, limiter, view, null);
  }

  /** With {@code store} sending the rounds (tests cut a node off with it); null: to the store role over the bus. */
  OriginLeases(Vertx vertx, String self, long leaseMs, HostLimiter limiter, Supplier<Collection<String>> view,
               Function<JsonObject, Future<JsonObject>> store) {
    this.store = store != null ? store : round -> MemberRouter.<JsonObject>request(vertx, Bus.ORIGIN_LEASES, round,
        new DeliveryOptions().setSendTimeout(leaseMs / 4)).map(Message::body);
    this.vertx = vertx;
    this.self = self;
    this.leaseMs = leaseMs;
    this.renewMs = leaseMs / 4;
    this.marginMs = leaseMs / 5;
    this.maxWaitMs = 2 * leaseMs + renewMs;
    this.limiter = limiter;
    this.view = view;
    this.meters = Meters.of(vertx);
  }

  /** {@code cluster.originLeaseMs}, checked. */
  static long leaseMs(JsonObject config) {
    long ms = Settings.number(config, "cluster", "originLeaseMs").longValue();
    if (ms < 1_000 || ms > 600_000) {
      throw new IllegalArgumentException("cluster.originLeaseMs must be between 1000 and 600000");
    }
    return ms;
  }

  /**
   * The limiter grants slots under these leases from now on: none until {@link #start} has acquired some. Called when
   * the node's fetch state is made, before any request can arrive.
   */
  void gate() {
    limiter.gate(this);
  }

  /** Starts the rounds on {@code ctx}: the first one goes now. */
  void start(Context ctx) {
    synchronized (this) {
      context = ctx;
      stopped = false;
    }
    limiter.gate(this);
    meters.originLeases(this::heldCount);
    ctx.runOnContext(v -> {
      watchdog = vertx.setPeriodic(Math.max(10, Math.min(marginMs / 4, renewMs / 8)), t -> watch());
      round();
    });
  }

  /**
   * Gives every lease back (the node stops): nothing starts under them from now on, the requests still in flight under
   * them are closed, and one last round releases those whose requests are over, so that other nodes need not wait for
   * them to run out. Completes when it is answered, or within about {@code 3 * renewMs}.
   */
  Future<Void> stop() {
    Future<Void> inFlight;
    synchronized (this) {
      stopped = true;
      vertx.cancelTimer(watchdog);
      for (int b = 0; b < Rendezvous.BUCKETS; b++) {
        startWall.set(b, 0);
      }
      inFlight = lastRoundDone;
    }
    // A round in flight may still acquire buckets: they are given back with the others once it is answered.
    return inFlight.timeout(renewMs, java.util.concurrent.TimeUnit.MILLISECONDS).otherwiseEmpty()
        .compose(v -> giveBack());
  }

  private Future<Void> giveBack() {
    List<Integer> mine = new ArrayList<>();
    synchronized (this) {
      for (int b = 0; b < Rendezvous.BUCKETS; b++) {
        startWall.set(b, 0);
        if (state[b] != NONE) {
          mine.add(b);
        }
      }
    }
    // What still runs under them is closed first: a lease given back is another node's at once.
    mine.forEach(limiter::revoke);
    long deadline = System.nanoTime() + renewMs * 1_000_000;
    return whenIdle(mine, deadline).compose(idle -> {
      List<JsonObject> release = new ArrayList<>();
      synchronized (this) {
        for (int b : idle) {
          if (state[b] != NONE) {
            release.add(new JsonObject().put("bucket", b).put("token", token[b]));
            forget(b);
          }
        }
      }
      if (release.isEmpty()) {
        return Future.succeededFuture();
      }
      JsonObject round = new JsonObject().put("node", self).put("leaseMs", leaseMs).put("acquire", new JsonArray())
          .put("renew", new JsonArray()).put("release", new JsonArray(release));
      return store.apply(round)
          .<Void>mapEmpty()
          .onSuccess(v -> LOG.info("gave back the leases of {} origin buckets", release.size()))
          .recover(err -> {
            LOG.info("could not give back the leases of {} origin buckets ({}): they run out within {} ms",
                release.size(), err.getMessage(), leaseMs);
            return Future.succeededFuture();
          });
    });
  }

  /**
   * The buckets of {@code buckets} with no request in flight or waiting (checked again every 20 ms until all are, or
   * until {@code deadline}): only those are given back, the others run out.
   */
  private Future<List<Integer>> whenIdle(List<Integer> buckets, long deadline) {
    List<Integer> idle = new ArrayList<>();
    for (int b : buckets) {
      if (limiter.ifIdle(b, () -> { })) {
        idle.add(b);
      }
    }
    if (idle.size() == buckets.size() || System.nanoTime() - deadline >= 0) {
      return Future.succeededFuture(idle);
    }
    return vertx.timer(20).compose(t -> whenIdle(buckets, deadline));
  }

  @Override
  public int bucket(String origin) {
    return Rendezvous.bucket(origin);
  }

  @Override
  public boolean holds(int bucket) {
    if (bucket < 0) {
      return false;
    }
    // Wall clock first: it is 0 for a bucket not held, and written last when a lease is granted.
    return System.currentTimeMillis() < startWall.get(bucket) && System.nanoTime() - startNanos.get(bucket) < 0;
  }

  /**
   * A node that takes a bucket cannot know when its last holder last started a request to each of its origins: when
   * the lease was handed over, at least that origin's delay ago; when it ran out, perhaps only the margin ago. So the
   * first request under a new lease waits the origin's delay too, and a {@code Crawl-delay} longer than the margin is
   * kept across a holder that vanished.
   */
  @Override
  public long heldSince(int bucket) {
    return bucket < 0 ? 0 : heldSince.get(bucket);
  }

  /** Why requests for {@code bucket} are refused at once now, or null; unlike {@link #refusal}, counts nothing. */
  String refusalNow(int bucket) {
    return bucket < 0 ? null : refusals.get(bucket);
  }

  @Override
  public String refusal(int bucket) {
    String why = refusalNow(bucket);
    if (why != null) {
      meters.originLeaseRefusals(1);
    }
    return why;
  }

  @Override
  public void wanted(int bucket) {
    Context ctx;
    synchronized (this) {
      ctx = context;
    }
    // One round soon, however many requests ask; before the start, the first round comes anyway.
    if (ctx != null && roundWanted.compareAndSet(false, true)) {
      ctx.runOnContext(v -> {
        roundWanted.set(false);
        round();
      });
    }
  }

  synchronized int heldCount() {
    return held;
  }

  /** The watchdog: revokes the leases whose validity here is over, ends waits that are too long, starts rounds. */
  private void watch() {
    long nanos = System.nanoTime();
    long wall = System.currentTimeMillis();
    Collection<String> nodes = view.get();
    boolean leaving = shuttingDown();
    List<Integer> lost = new ArrayList<>();
    boolean pending = false;
    synchronized (this) {
      if (stopped) {
        return;
      }
      for (int b = 0; b < Rendezvous.BUCKETS; b++) {
        if (state[b] != NONE && (wall >= validWall[b] || nanos - validNanos[b] >= 0)) {
          lost.add(b);
          forget(b);
        }
      }
      for (int b = 0; b < Rendezvous.BUCKETS && !pending; b++) {
        pending = state[b] == NONE && wants(b, nodes, leaving);
      }
    }
    for (int b : lost) {
      meters.originLeaseLost();
      limiter.revoke(b);
    }
    if (!lost.isEmpty()) {
      LOG.warn("the leases of {} origin buckets ran out before they were renewed (PostgreSQL or the store did not "
          + "answer in time, or this node was paused): their requests in flight are closed, and no request starts "
          + "under them until they are acquired again", lost.size());
    }
    int expired = limiter.expireLeaseWaits(maxWaitMs, b -> "no lease for this origin within " + maxWaitMs + " ms: "
        + holderOf(b) + " holds it");
    if (expired > 0) {
      meters.originLeaseRefusals(expired);
    }
    long since = (nanos - lastRound) / 1_000_000;
    if (since >= (pending ? Math.max(10, renewMs / 8) : renewMs)) {
      round();
    }
  }

  private synchronized String holderOf(int bucket) {
    return otherHolder[bucket] == null ? "another fetch node" : "fetch node " + otherHolder[bucket];
  }

  /** Whether this node wants bucket {@code b}: it owns it among {@code nodes}, and it is not shutting down. */
  private boolean wants(int b, Collection<String> nodes, boolean leaving) {
    return !leaving && self.equals(Rendezvous.owner(Rendezvous.bucketKey(b), nodes));
  }

  private boolean shuttingDown() {
    return vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_SHUTDOWN_DEADLINE) != null;
  }

  /** Under the lock: the bucket is not held any more. */
  private void forget(int b) {
    startWall.set(b, 0);
    state[b] = NONE;
    token[b] = 0;
    validWall[b] = 0;
    held--;
  }

  /** One round: what to renew, acquire and release, sent to the store; its answer applied. On this node's context. */
  private void round() {
    Promise<Void> done = Promise.promise();
    long sentNanos = System.nanoTime();
    long sentWall = System.currentTimeMillis();
    Collection<String> nodes = view.get();
    boolean leaving = shuttingDown();
    JsonArray acquire = new JsonArray();
    JsonArray renew = new JsonArray();
    JsonArray release = new JsonArray();
    List<Integer> nowReleasing = new ArrayList<>();
    List<Integer> revokeNow = new ArrayList<>();
    synchronized (this) {
      if (roundInFlight || stopped) {
        return;
      }
      lastRound = sentNanos;
      for (int b = 0; b < Rendezvous.BUCKETS; b++) {
        boolean wanted = wants(b, nodes, leaving);
        if (state[b] == NONE) {
          if (wanted) {
            acquire.add(b);
          } else {
            // Only a bucket this node asks for can be refused at once; others' requests wait (at most maxWaitMs).
            refusals.set(b, null);
            otherHolder[b] = null;
          }
          continue;
        }
        if (state[b] == HELD && !wanted) {
          // Moved to another node: nothing new starts here; what waits here goes; what runs finishes first.
          state[b] = RELEASING;
          releasingSince[b] = sentNanos;
          startWall.set(b, 0);
          nowReleasing.add(b);
        } else if (state[b] == RELEASING && wanted) {
          state[b] = HELD;
          startNanos.set(b, validNanos[b]);
          startWall.set(b, validWall[b]);
        }
        if (state[b] == RELEASING && (sentNanos - releasingSince[b]) / 1_000_000 > leaseMs) {
          revokeNow.add(b); // requests that outlast a whole lease are closed; the bucket goes at the next round
        }
        renew.add(new JsonObject().put("bucket", b).put("token", token[b]));
      }
      roundInFlight = true;
      lastRoundDone = done.future();
    }
    for (int b : nowReleasing) {
      int moved = limiter.failWaiting(b, "this origin is fetched by another fetch node from now on");
      if (moved > 0) {
        meters.originLeaseRefusals(moved);
      }
    }
    for (int b : revokeNow) {
      limiter.revoke(b);
    }
    // Buckets being released whose requests are all over go back now (checked under the limiter's lock).
    for (int i = renew.size() - 1; i >= 0; i--) {
      JsonObject lease = renew.getJsonObject(i);
      int b = lease.getInteger("bucket");
      boolean releasing;
      synchronized (this) {
        releasing = state[b] == RELEASING;
      }
      if (releasing && limiter.ifIdle(b, () -> {
        synchronized (this) {
          if (state[b] == RELEASING) {
            forget(b);
          }
        }
      })) {
        renew.remove(i);
        release.add(lease);
      }
    }
    JsonObject request = new JsonObject().put("node", self).put("leaseMs", leaseMs).put("acquire", acquire)
        .put("renew", renew).put("release", release);
    store.apply(request)
        .onComplete(ar -> {
          synchronized (this) {
            roundInFlight = false;
          }
          done.complete();
          if (ar.succeeded()) {
            applied(ar.result(), renew, acquire, sentNanos, sentWall, nodes);
          } else {
            LOG.debug("origin lease round failed: {}", ar.cause().getMessage());
          }
        });
  }

  /** The store's answer to a round sent at {@code sentNanos}: leases renewed, acquired, lost, and who holds the rest. */
  private void applied(JsonObject answer, JsonArray renewed, JsonArray acquire, long sentNanos, long sentWall,
                       Collection<String> nodes) {
    JsonObject[] rows = new JsonObject[Rendezvous.BUCKETS];
    for (Object o : answer.getJsonArray("leases", new JsonArray())) {
      if (o instanceof JsonObject row && row.getInteger("bucket") != null
          && row.getInteger("bucket") >= 0 && row.getInteger("bucket") < Rendezvous.BUCKETS) {
        rows[row.getInteger("bucket")] = row;
      }
    }
    long untilNanos = sentNanos + (leaseMs - marginMs) * 1_000_000;
    long untilWall = sentWall + leaseMs - marginMs;
    List<Integer> lost = new ArrayList<>();
    List<Integer> refused = new ArrayList<>();
    boolean granted = false;
    Set<String> heard = new HashSet<>(nodes);
    synchronized (this) {
      boolean usable = !stopped; // once stopped, what this round got is only recorded, to be given back
      for (Object o : renewed) {
        int b = ((JsonObject) o).getInteger("bucket");
        long t = ((JsonObject) o).getLong("token");
        if (state[b] == NONE || token[b] != t) {
          continue; // revoked meanwhile: it is acquired again if wanted
        }
        JsonObject row = rows[b];
        if (row != null && self.equals(row.getString("node")) && t == row.getLong("token", 0L)) {
          validNanos[b] = untilNanos;
          validWall[b] = untilWall;
          if (state[b] == HELD && usable) {
            startNanos.set(b, untilNanos);
            startWall.set(b, untilWall);
          }
        } else {
          lost.add(b); // taken by another node: this one's validity had run out, or its clock is wrong
          forget(b);
        }
      }
      for (Object o : acquire) {
        int b = (Integer) o;
        JsonObject row = rows[b];
        if (row == null || state[b] != NONE) {
          continue;
        }
        String holder = row.getString("node");
        if (self.equals(holder)) {
          state[b] = HELD;
          heldSince.set(b, System.currentTimeMillis()); // before startWall, which makes the lease usable
          token[b] = row.getLong("token");
          validNanos[b] = untilNanos;
          validWall[b] = untilWall;
          if (usable) {
            startNanos.set(b, untilNanos);
            startWall.set(b, untilWall);
          }
          refusals.set(b, null);
          otherHolder[b] = null;
          held++;
          granted = true;
          continue;
        }
        long t = row.getLong("token", 0L);
        long until = row.getLong("untilMs", 0L);
        // A holder this node does not hear, seen renewing its lease, which has not run out: a node of another part
        // of the cluster (a split), alive. Requests for its origins are refused at once, not after a long wait, until
        // its lease ends by PostgreSQL's clock (msLeft) without a renewal. Not only in the round after a renewal: a
        // holder renews a quarter of its lease apart, this node's rounds may come every eighth of one while it lacks
        // buckets, and the refusal must not lapse in between.
        boolean same = holder != null && holder.equals(otherHolder[b]) && t == otherToken[b];
        if (!same) {
          otherRenewed[b] = false;
        } else if (until > otherUntil[b]) {
          otherRenewed[b] = true;
        }
        boolean renewing = same && otherRenewed[b] && row.getLong("msLeft", 0L) > 0;
        otherHolder[b] = holder;
        otherToken[b] = t;
        otherUntil[b] = until;
        if (renewing && !heard.contains(holder)) {
          if (refusals.get(b) == null) {
            refused.add(b);
          }
          refusals.set(b, "this origin is fetched by fetch node " + holder + ", outside this part of the cluster "
              + "(split?), which holds its lease");
        } else {
          refusals.set(b, null); // a holder this node hears lets it go soon; one that does not renew, when it runs out
        }
      }
    }
    for (int b : lost) {
      meters.originLeaseLost();
      limiter.revoke(b);
      LOG.warn("the lease of origin bucket {} was taken by another node before this one renewed it: its requests in "
          + "flight are closed", b);
    }
    for (int b : refused) {
      int n = limiter.failWaiting(b, refusals.get(b));
      if (n > 0) {
        meters.originLeaseRefusals(n);
      }
    }
    if (granted) {
      limiter.leaseGranted();
    }
  }
}
