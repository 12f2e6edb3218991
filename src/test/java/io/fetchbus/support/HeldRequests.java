package io.fetchbus.support;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;

/**
 * Requests a stub site keeps waiting while the test holds them ({@link TestSite}, {@link DocsSite}): each goes on, on
 * the context it arrived on, when the test releases them.
 */
public final class HeldRequests {
  private final List<Runnable> held = new ArrayList<>();
  private boolean holding;

  /** From now on, requests wait until {@link #release()}. */
  public synchronized void hold() {
    holding = true;
  }

  /** Keeps {@code resume} for the release while holding, and says so; otherwise keeps nothing: go on at once. */
  public boolean keep(Vertx vertx, Runnable resume) {
    Context context = vertx.getOrCreateContext();
    synchronized (this) {
      if (holding) {
        held.add(() -> context.runOnContext(v -> resume.run()));
      }
      return holding;
    }
  }

  public synchronized int count() {
    return held.size();
  }

  /** Lets every held request go on, and holds none from now on. */
  public void release() {
    List<Runnable> waiting;
    synchronized (this) {
      holding = false;
      waiting = List.copyOf(held);
      held.clear();
    }
    waiting.forEach(Runnable::run);
  }
}
