package io.fetchbus.fetch;

import io.fetchbus.bus.Failure;
import io.vertx.core.Context;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Politeness and concurrency for every fetch verticle of one Vert.x instance: at most {@code maxInFlight}
 * requests in flight, at most a per-host number to each origin (scheme, host, port), and a minimum delay
 * between the starts of two requests to one origin. A request that cannot start waits in its origin's bounded
 * queue; origins are served round-robin, so a slow or busy origin never holds up the others. A full queue is
 * a 429 at once.
 * <p>
 * All state is plain data behind one lock held for microseconds (no I/O under it); grants run on the waiter's
 * own context, and delays are Vert.x timers. No thread ever waits.
 * <p>
 * In cluster mode a {@link Gate} is set ({@link OriginLeases}): a slot for an origin is granted only while this node
 * holds the lease of the origin's bucket, a request whose lease is missing waits in its origin's queue like any other
 * (or is refused with 503 when another node is known to hold it), and when a lease is lost the slots granted under it
 * are revoked: their holders close their requests. Alone (no gate), none of this costs anything.
 */
final class HostLimiter implements Shareable {
  /** A granted slot; {@link #release} exactly once when the request is over. */
  interface Permit {
    void release();

    /** Whether a request may still be sent under this slot: always, unless its origin's lease has been lost. */
    default boolean valid() {
      return true;
    }
  }

  /** Who may fetch which origin in cluster mode: the origin leases. Its methods are cheap and take no lock of ours. */
  interface Gate {
    int bucket(String origin);

    /** Whether this node holds the lease of {@code bucket} now and may start requests under it. */
    boolean holds(int bucket);

    /** When this node came to hold {@code bucket} (wall clock, ms): an origin's delay counts from then too. */
    long heldSince(int bucket);

    /** Why a request for {@code bucket}, whose lease this node lacks, is refused at once; null when it may wait. */
    String refusal(int bucket);

    /** A request waits for the lease of {@code bucket}. */
    void wanted(int bucket);
  }

  private final Vertx vertx;
  private final int maxInFlight;
  private final int maxQueuedPerHost;
  private final int maxQueued;
  private final Map<String, Host> hosts = new HashMap<>();
  /** Origins with waiters, in the order they will be offered a free slot (round-robin). */
  private final LinkedHashSet<Host> waiting = new LinkedHashSet<>();
  private int inFlight;
  private int queued;
  /** Slots handed out since start: the upstream requests this node started. */
  private long started;
  private long lastSweep = System.currentTimeMillis();
  /** The origin leases, in cluster mode; null alone. */
  private volatile Gate gate;

  HostLimiter(Vertx vertx, int maxInFlight, int maxQueuedPerHost, int maxQueued) {
    this.vertx = vertx;
    this.maxInFlight = maxInFlight;
    this.maxQueuedPerHost = maxQueuedPerHost;
    this.maxQueued = maxQueued;
  }

  static HostLimiter shared(Vertx vertx, FetchSettings s) {
    return vertx.sharedData().<String, HostLimiter>getLocalMap("fetchbus.fetch").computeIfAbsent("limiter",
        k -> new HostLimiter(vertx, s.maxInFlight(), s.perHostQueue(), s.maxQueued()));
  }

  /** Cluster mode: from now on, slots are granted under the origin leases of {@code g}. */
  void gate(Gate g) {
    gate = g;
  }

  Future<Permit> acquire(String origin, int perHost, long delayMs, Context context) {
    return acquire(origin, perHost, delayMs, context, null);
  }

  /**
   * A slot for one request to {@code origin}, when at most {@code perHost} requests to it are in flight and
   * {@code delayMs} has passed since the last one started. Fails at once with 429 when the origin's queue (or
   * the queue as a whole) is full. The future completes on {@code context}. In cluster mode, {@code onRevoke} runs
   * (on {@code context}) if the origin's lease is lost while the slot is held: the request must be closed at once.
   */
  Future<Permit> acquire(String origin, int perHost, long delayMs, Context context, Runnable onRevoke) {
    Promise<Permit> promise = Promise.promise();
    // The whole limit: one node fetches each origin, and in cluster mode only while it holds its lease.
    Waiter waiter = new Waiter(perHost, Math.max(0, delayMs), promise, context, onRevoke, System.currentTimeMillis());
    Gate g = gate;
    String refusal;
    int waitsForLease = -1;
    synchronized (this) {
      sweepNowAndThen();
      // An origin is remembered only once a request to it starts or waits, never for a refusal.
      Host host = hosts.get(origin);
      boolean fresh = host == null;
      if (fresh) {
        host = new Host(origin);
      }
      if (g != null && host.bucket < 0) {
        host.bucket = g.bucket(origin);
      }
      String unavailable = g != null && !g.holds(host.bucket) ? g.refusal(host.bucket) : null;
      if (unavailable != null) {
        return Future.failedFuture(Failure.UNAVAILABLE.exception(unavailable + "; retry later"));
      }
      if (host.queue.isEmpty() && canStart(host, waiter)) {
        if (fresh) {
          hosts.put(origin, host);
        }
        start(host, waiter);
        return promise.future();
      }
      if (host.queue.size() >= maxQueuedPerHost) {
        refusal = maxQueuedPerHost + " requests to " + origin + " are already waiting (fetch.perHostQueue)";
      } else if (queued >= maxQueued) {
        refusal = maxQueued + " requests are already waiting for a fetch slot (fetch.maxQueued)";
      } else {
        if (fresh) {
          hosts.put(origin, host);
        }
        host.queue.add(waiter);
        queued++;
        waiting.add(host);
        refusal = null;
        scheduleDelayed(host);
        if (g != null && !g.holds(host.bucket)) {
          waitsForLease = host.bucket;
        }
      }
    }
    if (refusal != null) {
      return Future.failedFuture(Failure.LIMITED.exception(refusal + "; retry later"));
    }
    if (waitsForLease >= 0) {
      g.wanted(waitsForLease);
    }
    return promise.future();
  }

  /** Whether slots are granted under origin leases (cluster mode). */
  boolean gated() {
    return gate != null;
  }

  /** Cluster mode: whether this node lacks the lease of {@code origin} now (always false alone). */
  boolean leaseMissing(String origin) {
    Gate g = gate;
    return g != null && !g.holds(g.bucket(origin));
  }

  /** A lease was granted: the requests that waited for it may start. */
  synchronized void leaseGranted() {
    dispatch();
  }

  /**
   * The lease of {@code bucket} is lost: every slot granted under it is revoked (its holder closes its request, then
   * releases it as usual). Requests waiting for a slot stay queued, for the lease may come back.
   */
  void revoke(int bucket) {
    List<Runnable> revoked = new ArrayList<>();
    synchronized (this) {
      for (Host host : hosts.values()) {
        if (host.bucket == bucket) {
          for (Waiter w : host.active) {
            if (w.onRevoke != null) {
              revoked.add(() -> w.context.runOnContext(v -> w.onRevoke.run()));
            }
          }
        }
      }
    }
    revoked.forEach(Runnable::run);
  }

  /**
   * Fails every request of {@code bucket} waiting for a slot with {@code why} (503): it will not be served here.
   * Returns how many.
   */
  int failWaiting(int bucket, String why) {
    return failWaiting(w -> true, bucket, why);
  }

  /**
   * Fails the requests that have waited longer than {@code maxWaitMs} for a lease this node still lacks, with 503 and
   * {@code why}: another node holds it and does not let it go. Returns how many.
   */
  int expireLeaseWaits(long maxWaitMs, java.util.function.IntFunction<String> why) {
    Gate g = gate;
    if (g == null) {
      return 0;
    }
    long oldest = System.currentTimeMillis() - maxWaitMs;
    List<Integer> buckets = new ArrayList<>();
    synchronized (this) {
      for (Host host : waiting) {
        if (!g.holds(host.bucket) && !buckets.contains(host.bucket) && host.queue.peek() != null
            && host.queue.peek().queuedAt < oldest) {
          buckets.add(host.bucket);
        }
      }
    }
    int failed = 0;
    for (int b : buckets) {
      failed += failWaiting(w -> w.queuedAt < oldest, b, why.apply(b));
    }
    return failed;
  }

  private int failWaiting(java.util.function.Predicate<Waiter> which, int bucket, String why) {
    List<Waiter> failed = new ArrayList<>();
    synchronized (this) {
      for (Iterator<Host> it = waiting.iterator(); it.hasNext(); ) {
        Host host = it.next();
        if (host.bucket != bucket) {
          continue;
        }
        for (Iterator<Waiter> ws = host.queue.iterator(); ws.hasNext(); ) {
          Waiter w = ws.next();
          if (which.test(w)) {
            ws.remove();
            queued--;
            failed.add(w);
          }
        }
        if (host.queue.isEmpty()) {
          it.remove();
        }
      }
      if (!failed.isEmpty()) {
        dispatch();
      }
    }
    for (Waiter w : failed) {
      w.context.runOnContext(v -> w.promise.tryFail(Failure.UNAVAILABLE.exception(why + "; retry later")));
    }
    return failed.size();
  }

  /**
   * Runs {@code release} under this limiter's lock if no origin of {@code bucket} has a request in flight or waiting
   * and the delay since its last start is over, so that no slot can be granted between that check and the release;
   * returns whether it ran.
   */
  synchronized boolean ifIdle(int bucket, Runnable release) {
    for (Host host : hosts.values()) {
      if (host.bucket == bucket && !idle(host)) {
        return false;
      }
    }
    release.run();
    return true;
  }

  /** Removes the waiter of {@code origin} whose future is {@code pending}: its fetch gave up waiting. */
  synchronized void cancel(String origin, Future<Permit> pending) {
    Host host = hosts.get(origin);
    if (host != null && host.queue.removeIf(w -> w.promise.future() == pending)) {
      queued--;
      if (host.queue.isEmpty()) {
        waiting.remove(host);
      }
      dispatch(); // the waiter that gave up may have been the one holding up the others
    }
  }

  synchronized int hostsTracked() {
    return hosts.size();
  }

  /** Under the lock: at most every 30 s, forgets origins that are idle and past their delay. */
  private void sweepNowAndThen() {
    long now = System.currentTimeMillis();
    if (now - lastSweep >= 30_000) {
      lastSweep = now;
      hosts.values().removeIf(this::idle);
    }
  }

  synchronized int inFlight() {
    return inFlight;
  }

  synchronized long started() {
    return started;
  }

  private boolean canStart(Host host, Waiter w) {
    Gate g = gate;
    return inFlight < maxInFlight && host.active.size() < w.perHost
        && System.currentTimeMillis() >= delayFrom(host) + w.delayMs && (g == null || g.holds(host.bucket));
  }

  /** When the delay before the next start to an origin counts from: its last start, or when its lease came here. */
  private long delayFrom(Host host) {
    Gate g = gate;
    return g == null ? host.lastStart : Math.max(host.lastStart, g.heldSince(host.bucket));
  }

  /** Under the lock: takes the slot and hands it to the waiter on its own context. */
  private void start(Host host, Waiter w) {
    inFlight++;
    started++;
    host.active.add(w);
    host.lastStart = System.currentTimeMillis();
    // The longest delay asked recently is kept, so a request without one cannot make the origin forget it.
    host.lastDelay = Math.max(host.lastDelay, w.delayMs);
    Gate g = gate;
    Permit permit = new Permit() {
      private boolean released;

      @Override
      public void release() {
        synchronized (HostLimiter.this) {
          if (released) {
            return;
          }
          released = true;
          inFlight--;
          host.active.remove(w);
          if (idle(host)) {
            hosts.remove(host.origin);
          }
          dispatch();
        }
      }

      @Override
      public boolean valid() {
        return g == null || g.holds(host.bucket);
      }
    };
    w.context.runOnContext(v -> {
      if (!w.promise.tryComplete(permit)) {
        permit.release(); // the waiter gave up in the meantime
      }
    });
  }

  /** Under the lock: offers free slots to the origins with waiters, one request each per round. */
  private void dispatch() {
    boolean progress = true;
    while (progress && inFlight < maxInFlight && !waiting.isEmpty()) {
      progress = false;
      for (Iterator<Host> it = waiting.iterator(); it.hasNext() && inFlight < maxInFlight; ) {
        Host host = it.next();
        Waiter head = host.queue.peek();
        if (head != null && canStart(host, head)) {
          host.queue.poll();
          queued--;
          start(host, head);
          progress = true;
        }
        if (host.queue.isEmpty()) {
          it.remove();
        } else {
          scheduleDelayed(host);
        }
      }
      // Rotate: the origins served this round go to the back, so no origin is always first.
      if (progress && waiting.size() > 1) {
        Host first = waiting.iterator().next();
        waiting.remove(first);
        waiting.add(first);
      }
    }
  }

  /** Under the lock: when an origin's head waiter waits only for the delay, wake up when the delay is over. */
  private void scheduleDelayed(Host host) {
    Waiter head = host.queue.peek();
    if (head == null || host.timerSet || host.active.size() >= head.perHost) {
      return;
    }
    long wait = delayFrom(host) + head.delayMs - System.currentTimeMillis();
    if (wait > 0) {
      host.timerSet = true;
      vertx.setTimer(wait, t -> {
        synchronized (this) {
          host.timerSet = false;
          dispatch();
        }
      });
    }
  }

  /** Nothing in flight, nobody waiting, and the delay since its last start is over: nothing left to remember. */
  private boolean idle(Host host) {
    return host.active.isEmpty() && host.queue.isEmpty() && !host.timerSet
        && System.currentTimeMillis() >= host.lastStart + host.lastDelay;
  }

  private static final class Host {
    final String origin;
    /** The bucket of its lease in cluster mode, else -1. */
    int bucket = -1;
    final ArrayDeque<Waiter> queue = new ArrayDeque<>();
    /** The requests in flight: a handful at most (the per-host limit). */
    final List<Waiter> active = new ArrayList<>(2);
    long lastStart;
    long lastDelay;
    boolean timerSet;

    Host(String origin) {
      this.origin = origin;
    }
  }

  private record Waiter(int perHost, long delayMs, Promise<Permit> promise, Context context, Runnable onRevoke,
                        long queuedAt) {}
}
