package io.fetchbus.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Failure;
import io.fetchbus.support.TestVertx;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class HostLimiterTest {
  private final Vertx vertx = TestVertx.create();

  @AfterEach
  void close(VertxTestContext ctx) {
    vertx.close().onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("freed slots go round-robin over the origins with waiters, so a busy origin cannot starve another")
  void roundRobin(VertxTestContext ctx) {
    HostLimiter limiter = new HostLimiter(vertx, 1, 10, 100);
    Context context = vertx.getOrCreateContext();
    List<String> order = new ArrayList<>();
    context.runOnContext(v -> {
      Future<HostLimiter.Permit> first = limiter.acquire("a", 1, 0, context);
      List<Future<HostLimiter.Permit>> waiting = new ArrayList<>();
      for (String origin : List.of("a", "a", "a", "b")) {
        Future<HostLimiter.Permit> f = limiter.acquire(origin, 1, 0, context);
        f.onSuccess(p -> {
          order.add(origin);
          p.release();
        });
        waiting.add(f);
      }
      first.onSuccess(HostLimiter.Permit::release);
      Future.all(waiting).onComplete(ctx.succeeding(all -> ctx.verify(() -> {
        // a's second request goes first (a was waiting first), then b before a's third and fourth.
        assertThat(order).containsExactly("a", "b", "a", "a");
        assertThat(limiter.inFlight()).isZero();
        ctx.completeNow();
      })));
    });
  }

  @Test
  @DisplayName("a full origin queue refuses at once with 429, and other origins still get slots")
  void boundedQueue(VertxTestContext ctx) {
    HostLimiter limiter = new HostLimiter(vertx, 10, 1, 100);
    Context context = vertx.getOrCreateContext();
    context.runOnContext(v -> {
      Future<HostLimiter.Permit> running = limiter.acquire("a", 1, 0, context);
      Future<HostLimiter.Permit> queued = limiter.acquire("a", 1, 0, context);
      Future<HostLimiter.Permit> refused = limiter.acquire("a", 1, 0, context);
      Future<HostLimiter.Permit> other = limiter.acquire("b", 1, 0, context);
      ctx.verify(() -> {
        assertThat(queued.isComplete()).isFalse();
        assertThat(refused.failed()).isTrue();
        assertThat(Failure.LIMITED.is(refused.cause())).isTrue();
      });
      other.compose(p -> running).onComplete(ctx.succeeding(p -> ctx.verify(() -> {
        assertThat(limiter.inFlight()).isEqualTo(2);
        p.release();
        queued.onComplete(ctx.succeeding(q -> ctx.verify(() -> {
          assertThat(limiter.inFlight()).isEqualTo(2);
          ctx.completeNow();
        })));
      })));
    });
  }

  @Test
  @DisplayName("the per-origin delay spaces the starts of requests to one origin")
  void delayBetweenStarts(VertxTestContext ctx) {
    HostLimiter limiter = new HostLimiter(vertx, 10, 10, 100);
    Context context = vertx.getOrCreateContext();
    context.runOnContext(v -> {
      long[] starts = new long[3];
      List<Future<HostLimiter.Permit>> all = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        int n = i;
        all.add(limiter.acquire("a", 4, 200, context).onSuccess(p -> {
          starts[n] = System.currentTimeMillis();
          p.release();
        }));
      }
      Future.all(all).onComplete(ctx.succeeding(done -> ctx.verify(() -> {
        assertThat(starts[1] - starts[0]).isGreaterThanOrEqualTo(195);
        assertThat(starts[2] - starts[1]).isGreaterThanOrEqualTo(195);
        ctx.completeNow();
      })));
    });
  }

  @Test
  @DisplayName("a waiter that gives up is removed and never takes a slot")
  void cancel(VertxTestContext ctx) {
    HostLimiter limiter = new HostLimiter(vertx, 1, 10, 100);
    Context context = vertx.getOrCreateContext();
    context.runOnContext(v -> {
      Future<HostLimiter.Permit> running = limiter.acquire("a", 1, 0, context);
      Future<HostLimiter.Permit> gaveUp = limiter.acquire("a", 1, 0, context);
      Future<HostLimiter.Permit> next = limiter.acquire("a", 1, 0, context);
      limiter.cancel("a", gaveUp);
      running.onSuccess(HostLimiter.Permit::release);
      next.onComplete(ctx.succeeding(p -> ctx.verify(() -> {
        assertThat(gaveUp.isComplete()).isFalse();
        assertThat(limiter.inFlight()).isEqualTo(1);
        ctx.completeNow();
      })));
    });
  }

  /** A gate the test opens and closes by hand: bucket 0 for every origin. */
  private static final class Gate implements HostLimiter.Gate {
    volatile boolean held;
    volatile String refusal;
    final java.util.concurrent.atomic.AtomicInteger wanted = new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public int bucket(String origin) {
      return 0;
    }

    @Override
    public boolean holds(int bucket) {
      return held;
    }

    @Override
    public long heldSince(int bucket) {
      return 0;
    }

    @Override
    public String refusal(int bucket) {
      return refusal;
    }

    @Override
    public void wanted(int bucket) {
      wanted.incrementAndGet();
    }
  }

  @Test
  @DisplayName("cluster mode: no slot without the lease (the request waits and asks for it), one once it is granted; "
      + "a lost lease revokes the slots held under it and makes them invalid; a bucket is idle only with nothing "
      + "in flight; waiters are failed with 503 when told, and a refusal is a 503 at once")
  void gatedByTheLease(VertxTestContext ctx) {
    HostLimiter limiter = new HostLimiter(vertx, 10, 10, 100);
    Gate gate = new Gate();
    limiter.gate(gate);
    Context context = vertx.getOrCreateContext();
    context.runOnContext(v -> {
      List<String> revoked = new ArrayList<>();
      Future<HostLimiter.Permit> first = limiter.acquire("a", 2, 0, context, () -> revoked.add("first"));
      ctx.verify(() -> {
        assertThat(first.isComplete()).as("granted without the lease").isFalse();
        assertThat(gate.wanted.get()).isEqualTo(1);
        assertThat(limiter.ifIdle(0, () -> { })).as("idle with a request waiting").isFalse();
      });
      gate.held = true;
      limiter.leaseGranted();
      first.onComplete(ctx.succeeding(permit -> ctx.verify(() -> {
        assertThat(permit.valid()).isTrue();
        gate.held = false;
        limiter.revoke(0);
        assertThat(permit.valid()).as("valid once the lease is lost").isFalse();
        Future<HostLimiter.Permit> waiting = limiter.acquire("a", 2, 0, context);
        assertThat(limiter.failWaiting(0, "moved")).isEqualTo(1);
        gate.refusal = "held elsewhere";
        Future<HostLimiter.Permit> refused = limiter.acquire("b", 2, 0, context);
        assertThat(Failure.UNAVAILABLE.is(refused.cause())).isTrue();
        waiting.onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(Failure.UNAVAILABLE.is(err)).isTrue();
          assertThat(revoked).containsExactly("first");
          assertThat(limiter.ifIdle(0, () -> { })).as("idle with a slot held").isFalse();
          permit.release();
          assertThat(limiter.ifIdle(0, () -> { })).isTrue();
          ctx.completeNow();
        })));
      })));
    });
  }
}
