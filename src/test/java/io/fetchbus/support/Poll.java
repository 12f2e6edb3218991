package io.fetchbus.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.function.Supplier;

/** Waits for an eventual effect by asking again every 100 ms; the test's own timeout bounds the wait. */
public final class Poll {
  private Poll() {}

  public static Future<Void> until(Vertx vertx, Supplier<Future<Boolean>> check) {
    return check.get().compose(ok -> ok ? Future.succeededFuture() : vertx.timer(100).compose(t -> until(vertx, check)));
  }
}
