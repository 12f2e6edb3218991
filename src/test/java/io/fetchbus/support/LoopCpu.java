package io.fetchbus.support;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The CPU time event-loop threads used over a past stretch of wall time: sampled every {@value #EVERY_MS} ms by a
 * daemon thread, a few seconds kept per thread. It lets the blocked-loop check ask what it means to ask (did our
 * code hold the loop, running?) rather than how much wall time passed, which a busy machine stretches at will.
 */
final class LoopCpu {
  private static final long EVERY_MS = 20;
  private static final int KEPT = 250; // 5 s of samples per thread
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static final Map<Long, Deque<long[]>> SAMPLES = new ConcurrentHashMap<>();

  static {
    Thread sampler = new Thread(LoopCpu::sampleForever, "event-loop-cpu-sampler");
    sampler.setDaemon(true);
    sampler.start();
  }

  private LoopCpu() {}

  static void start() {
    // loading the class starts the sampler
  }

  private static void sampleForever() {
    while (true) {
      for (ThreadInfo t : THREADS.getThreadInfo(THREADS.getAllThreadIds(), 0)) {
        if (t != null && t.getThreadName().contains("eventloop")) {
          long cpu = THREADS.getThreadCpuTime(t.getThreadId());
          Deque<long[]> kept = SAMPLES.computeIfAbsent(t.getThreadId(), id -> new ArrayDeque<>());
          synchronized (kept) {
            kept.addLast(new long[] {System.nanoTime(), cpu});
            if (kept.size() > KEPT) {
              kept.removeFirst();
            }
          }
        }
      }
      try {
        Thread.sleep(EVERY_MS); // a sampler's own period, not a wait for an event
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /**
   * The CPU time (ns) {@code thread} used since {@code sinceNanos} (System.nanoTime): from the last sample taken at or
   * before it, so the figure errs on the high side; for a thread first sampled after it (a new event loop), from
   * that first sample, at most {@value #EVERY_MS} ms later; Long.MAX_VALUE when the thread was never sampled.
   */
  static long usedSince(Thread thread, long sinceNanos) {
    Deque<long[]> kept = SAMPLES.get(thread.getId());
    if (kept == null) {
      return Long.MAX_VALUE;
    }
    long[] before = null;
    synchronized (kept) {
      for (long[] s : kept) {
        if (before == null || s[0] <= sinceNanos) {
          before = s;
        }
      }
    }
    return before == null ? Long.MAX_VALUE : THREADS.getThreadCpuTime(thread.getId()) - before[1];
  }
}
