package io.fetchbus.fetch;

import io.fetchbus.bus.Failure;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
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
 */
final class HostLimiter implements Shareable {
  /** A granted slot; {@link #release} exactly once when the request is over. */
  interface Permit {
    void release();
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

  /**
   * A slot for one request to {@code origin}, when at most {@code perHost} requests to it are in flight and
   * {@code delayMs} has passed since the last one started. Fails at once with 429 when the origin's queue (or
   * the queue as a whole) is full. The future completes on {@code context}.
   */
  Future<Permit> acquire(String origin, int perHost, long delayMs, Context context) {
    Promise<Permit> promise = Promise.promise();
    // The whole limit: one node fetches each origin, in a split too (FetchOwners).
    Waiter waiter = new Waiter(perHost, Math.max(0, delayMs), promise, context);
    String refusal;
    synchronized (this) {
      sweepNowAndThen();
      // An origin is remembered only once a request to it starts or waits, never for a refusal.
      Host host = hosts.get(origin);
      boolean fresh = host == null;
      if (fresh) {
        host = new Host(origin);
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
      }
    }
    if (refusal != null) {
      return Future.failedFuture(Failure.LIMITED.exception(refusal + "; retry later"));
    }
    return promise.future();
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
    return inFlight < maxInFlight && host.active < w.perHost && System.currentTimeMillis() >= host.lastStart + w.delayMs;
  }

  /** Under the lock: takes the slot and hands it to the waiter on its own context. */
  private void start(Host host, Waiter w) {
    inFlight++;
    started++;
    host.active++;
    host.lastStart = System.currentTimeMillis();
    // The longest delay asked recently is kept, so a request without one cannot make the origin forget it.
    host.lastDelay = Math.max(host.lastDelay, w.delayMs);
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
          host.active--;
          if (idle(host)) {
            hosts.remove(host.origin);
          }
          dispatch();
        }
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
    if (head == null || host.timerSet || host.active >= head.perHost) {
      return;
    }
    long wait = host.lastStart + head.delayMs - System.currentTimeMillis();
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
    return host.active == 0 && host.queue.isEmpty() && !host.timerSet
        && System.currentTimeMillis() >= host.lastStart + host.lastDelay;
  }

  private static final class Host {
    final String origin;
    final ArrayDeque<Waiter> queue = new ArrayDeque<>();
    int active;
    long lastStart;
    long lastDelay;
    boolean timerSet;

    Host(String origin) {
      this.origin = origin;
    }
  }

  private record Waiter(int perHost, long delayMs, Promise<Permit> promise, Context context) {}
}
