package io.fetchbus.support;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.ext.eventbus.bridge.tcp.impl.protocol.FrameHelper;
import io.vertx.ext.eventbus.bridge.tcp.impl.protocol.FrameParser;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Predicate;

/**
 * A raw TCP connection to the event-bus bridge, as a client in another language has one: it writes frames (4-byte
 * big-endian length, then UTF-8 JSON) with the bridge's own {@link FrameHelper}, and reads them with its
 * {@link FrameParser}.
 */
public final class BridgeSocket {
  private final NetSocket socket;
  private final List<JsonObject> frames = new ArrayList<>();
  private final List<Waiter> waiting = new ArrayList<>();
  private boolean closed;
  private final Promise<Void> closedPromise = Promise.promise();

  private record Waiter(Predicate<JsonObject> wanted, Promise<JsonObject> promise) {}

  /** Held for the socket's life: Vert.x 5 closes a client, its sockets too, once the garbage collector finds it unreachable. */
  private final NetClient client;

  private BridgeSocket(NetClient client, NetSocket socket) {
    this.client = client;
    this.socket = socket;
    socket.handler(new FrameParser(ar -> {
      if (ar.succeeded()) {
        arrived(ar.result());
      }
    }));
    socket.closeHandler(v -> onClose());
  }

  public static Future<BridgeSocket> connect(Vertx vertx, int port) {
    return connect(vertx.createNetClient(), port);
  }

  private static Future<BridgeSocket> connect(NetClient client, int port) {
    return client.connect(port, "127.0.0.1").map(socket -> new BridgeSocket(client, socket));
  }

  /** A connection from {@code localAddress}, e.g. 127.0.0.2: another client address of the loopback network. */
  public static Future<BridgeSocket> connect(Vertx vertx, int port, String localAddress) {
    return connect(vertx.createNetClient(new NetClientOptions().setLocalAddress(localAddress)), port);
  }

  /** A frame of {@code type} to {@code address}; with {@code key}, its {@code authorization} header. */
  public static JsonObject frame(String type, String address, String key) {
    JsonObject frame = new JsonObject().put("type", type).put("address", address);
    if (key != null) {
      frame.put("headers", new JsonObject().put("authorization", "Bearer " + key));
    }
    return frame;
  }

  /** A {@code send} that waits for its answer at {@code replyAddress}. */
  public static JsonObject request(String address, JsonObject body, String replyAddress, String key) {
    return frame("send", address, key).put("body", body).put("replyAddress", replyAddress);
  }

  public BridgeSocket write(JsonObject frame) {
    FrameHelper.writeFrame(frame, socket);
    return this;
  }

  /** Bytes as they are, framed or not: what a broken or hostile client sends. */
  public BridgeSocket writeRaw(Buffer bytes) {
    socket.write(bytes);
    return this;
  }

  /** Completes when the connection is closed, by either side. */
  public Future<Void> closed() {
    return closedPromise.future();
  }

  /** The first frame not yet taken that {@code wanted} accepts, now or once it arrives; frames skipped stay. */
  public synchronized Future<JsonObject> next(Predicate<JsonObject> wanted) {
    for (Iterator<JsonObject> it = frames.iterator(); it.hasNext(); ) {
      JsonObject f = it.next();
      if (wanted.test(f)) {
        it.remove();
        return Future.succeededFuture(f);
      }
    }
    if (closed) {
      return Future.failedFuture(new IllegalStateException("the bridge closed the connection; frames left: " + frames));
    }
    Promise<JsonObject> promise = Promise.promise();
    waiting.add(new Waiter(wanted, promise));
    return promise.future();
  }

  /** The next frame addressed to {@code address} (a reply address, or a subscribed address). */
  public Future<JsonObject> to(String address) {
    return next(f -> address.equals(f.getString("address")));
  }

  /** A ping answered: every frame written before it has been handled by the bridge. */
  public Future<Void> roundTrip() {
    write(new JsonObject().put("type", "ping"));
    return next(f -> "pong".equals(f.getString("type"))).mapEmpty();
  }

  /** Every frame received and not taken yet. */
  public synchronized List<JsonObject> pending() {
    return List.copyOf(frames);
  }

  public Future<Void> close() {
    return socket.close();
  }

  private synchronized void arrived(JsonObject frame) {
    for (Iterator<Waiter> it = waiting.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      if (w.wanted().test(frame)) {
        it.remove();
        w.promise().complete(frame);
        return;
      }
    }
    frames.add(frame);
  }

  private synchronized void onClose() {
    closed = true;
    waiting.forEach(w -> w.promise().tryFail(new IllegalStateException("the bridge closed the connection")));
    waiting.clear();
    closedPromise.tryComplete();
  }
}
