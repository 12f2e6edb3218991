package io.fetchbus.support;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The time event-loop threads held their loop over a past stretch of wall time: the CPU time they used, plus the
 * time they spent blocked on a monitor or waiting (sleeping, parked, in {@code Object.wait}), the counts of the JVM's
 * thread contention monitoring. Sampled every {@value #EVERY_MS} ms by a daemon thread, a few seconds kept per
 * thread. It lets the blocked-loop check ask what it means to ask (did our code hold the loop, running or waiting
 * for something?) rather than how much wall time passed, which a busy machine stretches at will: the time a
 * runnable thread waits for a core is in neither count.
 */
final class LoopCpu {
  private static final long EVERY_MS = 20;
  private static final int KEPT = 250; // 5 s of samples per thread
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static final Map<Long, Deque<long[]>> SAMPLES = new ConcurrentHashMap<>();

  static {
    if (THREADS.isThreadContentionMonitoringSupported()) {
      THREADS.setThreadContentionMonitoringEnabled(true);
    }
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
          long held = held(t.getThreadId(), t);
          Deque<long[]> kept = SAMPLES.computeIfAbsent(t.getThreadId(), id -> new ArrayDeque<>());
          synchronized (kept) {
            kept.addLast(new long[] {System.nanoTime(), held});
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

  /** CPU time plus the time blocked or waiting (ns) of a thread, since it started; the CPU time alone without
   * contention monitoring. */
  private static long held(long id, ThreadInfo info) {
    long stalledMs = info == null ? 0 : Math.max(0, info.getBlockedTime()) + Math.max(0, info.getWaitedTime());
    return THREADS.getThreadCpuTime(id) + stalledMs * 1_000_000;
  }

  /**
   * The time (ns) {@code thread} held its loop (CPU, blocked, waiting) since {@code sinceNanos} (System.nanoTime):
   * from the last sample taken at or before it, so the figure errs on the high side; for a thread first sampled after
   * it (a new event loop), from that first sample, at most {@value #EVERY_MS} ms later; Long.MAX_VALUE when the thread
   * was never sampled.
   */
  static long heldSince(Thread thread, long sinceNanos) {
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
    return before == null ? Long.MAX_VALUE : held(thread.getId(), THREADS.getThreadInfo(thread.getId(), 0)) - before[1];
  }
}
