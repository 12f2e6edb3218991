package io.fetchbus.api;

import io.fetchbus.bus.Failure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One client's Server-Sent Events stream, fed from an event-bus address: the machinery of every {@code /events}
 * route. It sends the headers, a comment line every {@code heartbeatMs} so that idle connections (and proxies) stay
 * open, and ends when the client goes away, when the owner ends it, or as soon as the node begins to shut down
 * (rather than at its grace period's end). Bounded: events wait in a queue of at most {@code maxQueued} while the
 * client reads slower than they come (a client further behind is cut off, and reconnects), and at most
 * {@code maxOpen} streams of one kind are open at once in this JVM (429 beyond).
 */
final class EventStream {
  static final long HEARTBEAT_MS = 15_000;
  /** Open streams per kind, in this JVM: every API verticle instance counts against the same bound. */
  private static final Map<String, AtomicInteger> OPEN = new ConcurrentHashMap<>();

  private final Vertx vertx;
  private final HttpServerResponse response;
  private final AtomicInteger open;
  private final int maxQueued;
  private final long heartbeatMs;
  private final ArrayDeque<String> queue = new ArrayDeque<>();
  private MessageConsumer<JsonObject> consumer;
  private long heartbeat = -1;
  private boolean ended;

  private EventStream(Vertx vertx, RoutingContext ctx, AtomicInteger open, int maxQueued, long heartbeatMs) {
    this.vertx = vertx;
    this.response = ctx.response();
    this.open = open;
    this.maxQueued = maxQueued;
    this.heartbeatMs = heartbeatMs;
    // A node shutting down ends its streams at once rather than at its grace period's end.
    ctx.request().connection().shutdownHandler(v -> end());
  }

  /**
   * A stream of {@code kind} for this request, or a 429 (the request failed, null returned) when {@code maxOpen} of
   * that kind are open. The stream counts as open until it ends.
   */
  static EventStream admit(Vertx vertx, RoutingContext ctx, String kind, int maxOpen, int maxQueued, long heartbeatMs) {
    AtomicInteger open = OPEN.computeIfAbsent(kind, k -> new AtomicInteger());
    if (open.incrementAndGet() > maxOpen) {
      open.decrementAndGet();
      ctx.fail(Failure.LIMITED.exception(maxOpen + " " + kind + " event streams are open on this node, the most it "
          + "serves: try again later"));
      return null;
    }
    return new EventStream(vertx, ctx, open, maxQueued, heartbeatMs);
  }

  /** Open streams of {@code kind} in this JVM. */
  static int open(String kind) {
    AtomicInteger open = OPEN.get(kind);
    return open == null ? 0 : open.get();
  }

  /**
   * Sends the headers, subscribes {@code handler} to {@code address} and starts the heartbeat; completes once the
   * subscription is in place everywhere, so that what the caller sends then is not sent before a change it missed.
   */
  Future<Void> start(String address, Consumer<JsonObject> handler) {
    response.setChunked(true)
        .putHeader("Content-Type", "text/event-stream; charset=utf-8")
        .putHeader("Cache-Control", "no-cache")
        .putHeader("X-Accel-Buffering", "no");
    response.closeHandler(v -> stop());
    response.drainHandler(v -> drain());
    consumer = vertx.eventBus().consumer(address, msg -> {
      if (!ended) {
        handler.accept(msg.body());
      }
    });
    heartbeat = vertx.setPeriodic(heartbeatMs, t -> comment("keep-alive"));
    return consumer.completion();
  }

  /** {@code event: <event>} with {@code data} as one line of JSON. */
  void send(String event, JsonObject data) {
    write("event: " + event + "\ndata: " + data.encode() + "\n\n");
  }

  /** A comment line: clients ignore it. */
  void comment(String text) {
    write(": " + text + "\n\n");
  }

  boolean ended() {
    return ended;
  }

  /** What is queued is flushed (as far as the client takes it), then the response ends. */
  void end() {
    if (!ended) {
      while (!queue.isEmpty()) {
        response.write(queue.poll());
      }
      response.end();
      stop();
    }
  }

  private void write(String chunk) {
    if (ended) {
      return;
    }
    if (queue.isEmpty() && !response.writeQueueFull()) {
      response.write(chunk);
      return;
    }
    if (queue.size() >= maxQueued) {
      // The client is further behind than the bound allows: it reconnects, and reads what it missed elsewhere.
      queue.clear();
      response.reset();
      stop();
      return;
    }
    queue.add(chunk);
  }

  private void drain() {
    while (!ended && !queue.isEmpty() && !response.writeQueueFull()) {
      response.write(queue.poll());
    }
  }

  private void stop() {
    if (consumer != null) {
      consumer.unregister();
      consumer = null;
    }
    vertx.cancelTimer(heartbeat);
    queue.clear();
    if (!ended) {
      ended = true;
      open.decrementAndGet();
    }
  }
}
