package io.fetchbus.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every service test runs in its own Vert.x instance (so caches start empty) that reports blocked event loops,
 * and fails if any event loop was held longer than {@link TestVertx#MAX_EVENT_LOOP_MS}.
 */
@ExtendWith(VertxExtension.class)
public abstract class TestBase {
  protected final Vertx vertx;
  /** The service and an upstream, once {@link #deployWithUpstream} has run. */
  protected ServiceUnderTest fb;
  protected Upstream up;
  /**
   * The clients a test made: Vert.x 5 closes a client that is no longer reachable when the garbage collector finds
   * it, with whatever it has under way (a WebSocket handshake, a stream), so a test keeps them here until its end.
   */
  private final List<Object> clients = new CopyOnWriteArrayList<>(); // held() runs on event loops too

  protected TestBase() {
    this(new VertxOptions());
  }

  /** With options of the test's own, e.g. a hosts file that names the upstream. */
  protected TestBase(VertxOptions options) {
    TestDatabase.url(); // may start the embedded server: here, on the test thread, never on an event loop
    WARM_UP.run();
    vertx = TestVertx.create(options);
  }

  /**
   * Netty initialises its pooled allocator's classes (JFR event classes included) on the first direct buffer a
   * JVM allocates, which can take a few hundred ms on a busy machine. That is once per JVM, in whichever thread
   * comes first; done here, on the test thread, so the blocked-event-loop check only ever sees our own code.
   */
  private static final Runnable WARM_UP = new Runnable() {
    private boolean done;

    @Override
    public synchronized void run() {
      if (!done) {
        io.netty.buffer.ByteBufAllocator.DEFAULT.ioBuffer(64 * 1024).release();
        io.netty.buffer.ByteBufAllocator.DEFAULT.heapBuffer(64 * 1024).release();
        done = true;
      }
    }
  };

  /** Starts an upstream, then deploys the service with {@code overrides} on an emptied database. */
  protected Future<Void> deployWithUpstream(JsonObject overrides) {
    return Upstream.start(vertx)
        .compose(u -> {
          up = u;
          return ServiceUnderTest.fresh(vertx, overrides);
        })
        .onSuccess(f -> fb = f)
        .mapEmpty();
  }

  /** {@code client}, kept reachable until the test ends (see {@link #clients}); Vert.x closes it with the instance. */
  protected <T> T held(T client) {
    clients.add(client);
    return client;
  }

  @AfterEach
  void closeAndCheckEventLoops(VertxTestContext ctx) {
    vertx.close().onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      assertThat(TestVertx.blockedEventLoops(vertx)).as("event loops blocked longer than %d ms", TestVertx.MAX_EVENT_LOOP_MS)
          .isEmpty();
      ctx.completeNow();
    })));
  }
}
