package io.fetchbus.ops;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.spi.AppenderAttachable;
import ch.qos.logback.core.spi.AppenderAttachableImpl;
import java.util.Iterator;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands log events to a writer thread of its own without a lock and without waking it: the logging thread (an event
 * loop) adds the event to a lock-free queue and goes on; the writer passes them to the appenders it holds, and when
 * it finds the queue empty it naps, 1 ms at first and up to 64 ms while nothing comes. logback's AsyncAppender takes
 * its queue's lock twice per event and wakes its writer with a system call: 4% of an event loop's time on a cache
 * hit, which logs one access line.
 * <p>
 * Bounded: at most {@code queueSize} events wait (8,192 by default); past that, events are dropped rather than
 * making the loop wait, and the writer reports how many with a WARN line of this class's logger (at most one a
 * second, also while it is behind). {@link #stop} writes out what is queued, waiting {@code maxFlushMillis} at most
 * (a second by default) and saying how many lines it could not write in time; it leaves the appenders it holds
 * running, since they are shared with other loggers.
 */
public final class HandOffAppender extends UnsynchronizedAppenderBase<ILoggingEvent>
    implements AppenderAttachable<ILoggingEvent> {
  private static final Logger LOG = LoggerFactory.getLogger(HandOffAppender.class);
  private static final long MIN_NAP = TimeUnit.MILLISECONDS.toNanos(1);
  private static final long MAX_NAP = TimeUnit.MILLISECONDS.toNanos(64);
  private static final long REPORT_EVERY = TimeUnit.SECONDS.toNanos(1);

  private final AppenderAttachableImpl<ILoggingEvent> appenders = new AppenderAttachableImpl<>();
  private final Queue<ILoggingEvent> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicLong dropped = new AtomicLong();
  private int queueSize = 8192;
  private long maxFlushMillis = 1000;
  private Thread writer;

  public void setQueueSize(int queueSize) {
    this.queueSize = queueSize;
  }

  /** How long {@link #stop} waits for the writer to write out what is queued. */
  public void setMaxFlushMillis(long maxFlushMillis) {
    this.maxFlushMillis = maxFlushMillis;
  }

  /** Events dropped since the start because the queue was full. */
  public long dropped() {
    return dropped.get();
  }

  @Override
  public void start() {
    if (isStarted()) {
      return;
    }
    if (queueSize < 1 || !appenders.iteratorForAppenders().hasNext()) {
      addError("HandOffAppender " + name + " needs a queueSize of at least 1 and an appender-ref");
      return;
    }
    super.start();
    writer = new Thread(this::write, "log-writer-" + name);
    writer.setDaemon(true);
    writer.start();
  }

  @Override
  protected void append(ILoggingEvent event) {
    if (queued.incrementAndGet() > queueSize) {
      queued.decrementAndGet();
      dropped.incrementAndGet();
      return;
    }
    event.prepareForDeferredProcessing(); // the message and MDC as they are now, on the logging thread
    queue.offer(event);
  }

  private void write() {
    long nap = MIN_NAP;
    while (isStarted() || !queue.isEmpty()) {
      reportDropped(false); // also while the queue never empties: that is when lines are dropped
      ILoggingEvent event = queue.poll();
      if (event != null) {
        queued.decrementAndGet();
        appenders.appendLoopOnAppenders(event);
        nap = MIN_NAP;
        continue;
      }
      if (isStarted()) {
        LockSupport.parkNanos(this, nap);
        nap = Math.min(MAX_NAP, nap * 2);
      }
    }
    reportDropped(true);
  }

  private long reported;
  private long lastReport = System.nanoTime() - REPORT_EVERY;

  /**
   * On the writer: how many were dropped since the last report, at most once a second unless {@code now}. A volatile
   * read per event while nothing is dropped.
   */
  private void reportDropped(boolean now) {
    long lost = dropped.get();
    if (lost > reported && (now || System.nanoTime() - lastReport >= REPORT_EVERY)) {
      LOG.warn("{}: {} log lines dropped: the writer fell behind", name, lost - reported);
      reported = lost;
      lastReport = System.nanoTime();
    }
  }

  @Override
  public void stop() {
    if (!isStarted()) {
      return;
    }
    super.stop();
    LockSupport.unpark(writer);
    try {
      writer.join(maxFlushMillis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (writer.isAlive()) {
      LOG.warn("{}: the writer did not write out the queue within {} ms: about {} log lines may be lost", name,
          maxFlushMillis, queued.get());
      return;
    }
    // Events that passed the started check just as the writer saw the queue empty for the last time (one offered
    // after this drain is still lost: the window narrows to a few instructions, it does not close).
    for (ILoggingEvent event = queue.poll(); event != null; event = queue.poll()) {
      queued.decrementAndGet();
      appenders.appendLoopOnAppenders(event);
    }
  }

  @Override
  public void addAppender(Appender<ILoggingEvent> appender) {
    appenders.addAppender(appender);
  }

  @Override
  public Iterator<Appender<ILoggingEvent>> iteratorForAppenders() {
    return appenders.iteratorForAppenders();
  }

  @Override
  public Appender<ILoggingEvent> getAppender(String name) {
    return appenders.getAppender(name);
  }

  @Override
  public boolean isAttached(Appender<ILoggingEvent> appender) {
    return appenders.isAttached(appender);
  }

  @Override
  public void detachAndStopAllAppenders() {
    appenders.detachAndStopAllAppenders();
  }

  @Override
  public boolean detachAppender(Appender<ILoggingEvent> appender) {
    return appenders.detachAppender(appender);
  }

  @Override
  public boolean detachAppender(String name) {
    return appenders.detachAppender(name);
  }
}
