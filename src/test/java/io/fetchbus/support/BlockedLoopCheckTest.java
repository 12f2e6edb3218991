package io.fetchbus.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The suite's blocked-loop check still catches what it is for: a task that runs on an event loop past the limit,
 * and one that sleeps or waits there. (What it no longer reports is wall time a busy machine adds.)
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class BlockedLoopCheckTest {

  @Test
  @DisplayName("a task spinning on an event loop for 1 s is reported, with the time it held the loop")
  void spinningIsReported(VertxTestContext ctx) {
    Vertx vertx = TestVertx.create();
    vertx.runOnContext(v -> {
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
      long spins = 0;
      while (System.nanoTime() < until) {
        spins++;
      }
      long spun = spins;
      ctx.verify(() -> assertThat(spun).isPositive());
      vertx.close().onComplete(ctx.succeeding(x -> ctx.verify(() -> {
        assertThat(TestVertx.blockedEventLoops(vertx)).isNotEmpty()
            .anySatisfy(report -> assertThat(report).contains("ms running or waiting"));
        ctx.completeNow();
      })));
    });
  }

  @Test
  @DisplayName("a task sleeping on an event loop for 1 s is reported, though it uses no CPU")
  void sleepingIsReported(VertxTestContext ctx) {
    Vertx vertx = TestVertx.create();
    vertx.runOnContext(v -> {
      try {
        Thread.sleep(1_000); // the fault under test: a blocking call on an event loop
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      vertx.close().onComplete(ctx.succeeding(x -> ctx.verify(() -> {
        assertThat(TestVertx.blockedEventLoops(vertx)).isNotEmpty()
            .anySatisfy(report -> assertThat(report).contains("TIMED_WAITING"));
        ctx.completeNow();
      })));
    });
  }

  @Test
  @DisplayName("a task blocked on a lock on an event loop for 1 s is reported, though it uses no CPU")
  void blockedOnALockIsReported(VertxTestContext ctx) throws InterruptedException {
    Vertx vertx = TestVertx.create();
    Object lock = new Object();
    CountDownLatch taken = new CountDownLatch(1);
    AtomicInteger entered = new AtomicInteger();
    Thread holder = new Thread(() -> {
      synchronized (lock) {
        taken.countDown();
        try {
          Thread.sleep(1_000); // the other side of the fault: a thread that holds the loop's lock for 1 s
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    });
    holder.start();
    taken.await();
    vertx.runOnContext(v -> {
      synchronized (lock) {
        entered.incrementAndGet(); // the fault under test: an event loop waiting 1 s for a lock
      }
      vertx.close().onComplete(ctx.succeeding(x -> ctx.verify(() -> {
        assertThat(TestVertx.blockedEventLoops(vertx)).isNotEmpty()
            .anySatisfy(report -> assertThat(report).contains("BLOCKED"));
        assertThat(entered).hasValue(1);
        ctx.completeNow();
      })));
    });
  }
}
