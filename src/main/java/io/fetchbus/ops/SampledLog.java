package io.fetchbus.ops;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import org.slf4j.Logger;

/**
 * WARN lines about something a peer or a load can repeat at will (junk frames, rejected requests): at most
 * {@code perWindow} lines per {@code windowMs}, and the lines held back are counted and reported in one line when
 * the window ends. So a flood costs a few lines a window, never a line per event, and nothing goes unmentioned.
 * Never logs a stack trace: the caller passes what happened, not an exception. Thread-safe, so the API verticles
 * of several event loops can share one.
 */
public final class SampledLog implements Shareable {
  private final Vertx vertx;
  private final Logger log;
  private final long windowMs;
  private final int perWindow;
  /** What the summary line calls the events held back, e.g. "bad bridge peers". */
  private final String what;
  private long windowEnd;
  private int logged;
  private long heldBack;

  public SampledLog(Vertx vertx, Logger log, long windowMs, int perWindow, String what) {
    this.vertx = vertx;
    this.log = log;
    this.windowMs = windowMs;
    this.perWindow = perWindow;
    this.what = what;
  }

  /** Logs the line now if this window has room for it, else counts it for the window's summary. */
  public void warn(String format, Object... args) {
    if (!log.isWarnEnabled()) {
      return;
    }
    if (admit()) {
      log.warn(format, args);
    }
  }

  private synchronized boolean admit() {
    long now = System.currentTimeMillis();
    if (now >= windowEnd) {
      windowEnd = now + windowMs;
      logged = 0;
    }
    if (logged < perWindow) {
      logged++;
      return true;
    }
    if (heldBack++ == 0) {
      // The first line held back in this window schedules the summary at its end.
      vertx.setTimer(Math.max(1, windowEnd - now), t -> summarize());
    }
    return false;
  }

  private void summarize() {
    long n;
    synchronized (this) {
      n = heldBack;
      heldBack = 0;
    }
    if (n > 0) {
      log.warn("{} more {} in the last {} s, not logged one by one", n, what, windowMs / 1000.0);
    }
  }
}
