package io.fetchbus.support;

import io.fetchbus.ops.MetricsSetup;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.threadchecker.BlockedThreadEvent;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Vert.x instances for tests that report any event loop held longer than {@link #MAX_EVENT_LOOP_MS}: the tests
 * assert that none was, which is how the suite proves nothing blocks an event loop. They are built with metrics,
 * as the launcher builds the service's, so tests see real meters.
 * <p>
 * Held means what it says, not wall time alone, which a machine loaded several times over its cores stretches
 * while the loop waits for a core: a task is reported when, over its wall time past the limit, the loop thread
 * spent as long as the limit running, blocked on a lock, sleeping or parked ({@link LoopCpu}), or when its wall
 * time reaches {@link #ALWAYS_MS} whatever it did (a blocking call in native code counts in neither). A loop that
 * waited for a lock a moment, and for a core the rest of the time, is not held.
 */
public final class TestVertx {
  /** Far below Vert.x's 2 s default, far above what any handler of ours should take. */
  public static final long MAX_EVENT_LOOP_MS = 300;
  /** Vert.x's own default warning time: held this long, a loop is reported whatever the machine's load. */
  static final long ALWAYS_MS = 2_000;

  private static final Map<Vertx, List<String>> BLOCKED = new ConcurrentHashMap<>();

  private TestVertx() {}

  public static Vertx create() {
    return create(new VertxOptions());
  }

  public static Vertx create(VertxOptions options) {
    options.setMaxEventLoopExecuteTime(MAX_EVENT_LOOP_MS).setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS)
        .setBlockedThreadCheckInterval(50).setBlockedThreadCheckIntervalUnit(TimeUnit.MILLISECONDS)
        .setWarningExceptionTime(MAX_EVENT_LOOP_MS).setWarningExceptionTimeUnit(TimeUnit.MILLISECONDS);
    LoopCpu.start();
    Vertx vertx = MetricsSetup.vertxBuilder(options, true).build();
    List<String> blocked = new CopyOnWriteArrayList<>();
    BLOCKED.put(vertx, blocked);
    ((VertxInternal) vertx).blockedThreadChecker().setThreadBlockedHandler(event -> record(blocked, event));
    return vertx;
  }

  /**
   * Whether the event loop is loading or linking a class (a lambda's first call, say): the JVM's one-time work,
   * not a handler of ours blocking. It takes milliseconds, but on a machine loaded several times over its cores
   * its wall time can pass the limit, and the check must not fail a test because the machine is busy.
   */
  static boolean jvmWarmUp(StackTraceElement[] stack) {
    for (StackTraceElement e : stack) {
      String c = e.getClassName();
      if (c.startsWith("io.fetchbus.") || c.startsWith("io.vertx.") || c.startsWith("io.netty.")) {
        return false; // the innermost frames are ours or the framework's: that is what holds the loop
      }
      if (c.equals("java.lang.ClassLoader") || c.startsWith("jdk.internal.loader.") || c.startsWith("java.lang.invoke.")) {
        return true;
      }
    }
    return false;
  }

  /** Event loops of {@code vertx} reported blocked so far (each report once, at its longest). */
  public static List<String> blockedEventLoops(Vertx vertx) {
    return List.copyOf(BLOCKED.getOrDefault(vertx, List.of()));
  }

  private static void record(List<String> blocked, BlockedThreadEvent event) {
    if (event.thread().getName().contains("eventloop")) {
      Thread.State state = event.thread().getState();
      long heldNanos = LoopCpu.heldSince(event.thread(), System.nanoTime() - event.duration());
      boolean held = heldNanos >= TimeUnit.MILLISECONDS.toNanos(MAX_EVENT_LOOP_MS)
          || event.duration() >= TimeUnit.MILLISECONDS.toNanos(ALWAYS_MS);
      StackTraceElement[] stack = event.thread().getStackTrace();
      if (!held || jvmWarmUp(stack)) {
        return;
      }
      StringBuilder where = new StringBuilder();
      for (StackTraceElement e : stack) {
        where.append("\n  at ").append(e);
      }
      blocked.add(event.thread().getName() + " blocked for " + event.duration() / 1_000_000 + " ms ("
          + (heldNanos == Long.MAX_VALUE ? "not sampled" : heldNanos / 1_000_000 + " ms running or waiting") + ", " + state + ")"
          + where);
    }
  }
}
