package io.fetchbus.bridge;

import io.fetchbus.auth.ClientAddress;
import io.fetchbus.bus.Bus;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.ops.SampledLog;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import java.util.HashMap;
import java.util.Map;
import java.util.Map.Entry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client of the bridge: its frames, read by a bounded {@link FrameReader} and judged by the {@link FrameGuard},
 * become event-bus messages, and what the bus answers or publishes to its subscriptions comes back as frames (the
 * protocol of {@code vertx-tcp-eventbus-bridge}, which clients already speak). A frame that breaks the protocol
 * (longer than {@code bridge.maxFrameBytes}, not a JSON object, of no known type) gets an err frame and ends the
 * connection: after it, the stream cannot be trusted. Such a peer is logged once, through a {@link SampledLog}.
 * Everything it holds is bounded: one frame being read, its subscriptions, the messages it has yet to answer.
 */
final class BridgeConnection {
  private static final Logger LOG = LoggerFactory.getLogger(BridgeConnection.class);
  /** Reply addresses Vert.x generates: a client answers a message it received by sending there. */
  private static final String REPLY_PREFIX = "__vertx.reply.";
  static final int MAX_REGISTRATIONS = 64;
  static final int MAX_AWAITING_ANSWER = 1024;

  private final Vertx vertx;
  private final EventBus bus;
  private final NetSocket socket;
  private final FrameGuard guard;
  /** Who this client is for the failed-authentication throttle: its TCP peer address. */
  private final String client;
  private final SampledLog badPeers;
  private final FrameReader reader;
  private final Map<String, MessageConsumer<Object>> registrations = new HashMap<>();
  /** Messages delivered to this client that wait for its answer, by their reply address. */
  private final Map<String, Message<Object>> awaitingAnswer = new HashMap<>();
  private boolean protocolBroken;

  BridgeConnection(Vertx vertx, NetSocket socket, FrameGuard guard, long maxFrameBytes, SampledLog badPeers,
                   Runnable closed) {
    this.vertx = vertx;
    this.bus = vertx.eventBus();
    this.socket = socket;
    this.guard = guard;
    this.client = ClientAddress.of(socket.remoteAddress());
    this.badPeers = badPeers;
    this.reader = new FrameReader(maxFrameBytes, this::frame, length -> broken("frame_too_large: a frame of "
        + length + " bytes was announced; the limit is " + maxFrameBytes + " (bridge.maxFrameBytes)",
        "announced a frame of " + length + " bytes, over bridge.maxFrameBytes"));
    socket.handler(reader);
    socket.exceptionHandler(err -> {
      LOG.debug("bridge connection from {} failed: {}", socket.remoteAddress(), err.toString());
      socket.close();
    });
    socket.closeHandler(v -> {
      reader.stop();
      registrations.values().forEach(MessageConsumer::unregister);
      registrations.clear();
      awaitingAnswer.clear();
      closed.run();
    });
  }

  private void frame(Buffer bytes) {
    JsonObject frame;
    try {
      frame = new JsonObject(bytes);
    } catch (RuntimeException e) {
      broken("invalid_frame: a frame must be one JSON object in UTF-8", "sent a frame of " + bytes.length()
          + " bytes that is not a JSON object");
      return;
    }
    String type = frame.getValue("type") instanceof String s ? s : "";
    switch (type) {
      case Frames.PING -> Frames.write(socket, new JsonObject().put("type", "pong"));
      case Frames.SEND, Frames.PUBLISH, Frames.REGISTER, Frames.UNREGISTER -> {
        FrameGuard.Refusal refusal = guard.check(type, frame, client);
        if (refusal == null) {
          act(type, frame);
        } else {
          LOG.debug("bridge refused a {} frame from {}: {} {}", type, socket.remoteAddress(), refusal.code(),
              refusal.message());
          Frames.write(socket, FrameGuard.errFrame(type, frame, refusal));
          Frames.write(socket, Frames.err(Frames.BLOCKED));
        }
      }
      default -> broken("unknown_type: type must be send, publish, register, unregister or ping",
          "sent a frame of unknown type '" + abbreviated(type) + "'");
    }
  }

  /** The stream broke the protocol: say why, log the peer once, and end the connection. */
  private void broken(String message, String logged) {
    if (protocolBroken) {
      return;
    }
    protocolBroken = true;
    reader.stop();
    badPeers.warn("bridge peer {} {}: connection closed", socket.remoteAddress(), logged);
    Frames.write(socket, Frames.err(message));
    socket.close();
  }

  private void act(String type, JsonObject frame) {
    String address = frame.getString("address");
    DeliveryOptions options = deliveryOptions(frame.getJsonObject("headers"));
    switch (type) {
      case Frames.SEND -> send(address, frame, options);
      case Frames.PUBLISH -> bus.publish(address, frame.getValue("body"), options);
      case Frames.REGISTER -> register(address);
      default -> unregister(address);
    }
  }

  private void send(String address, JsonObject frame, DeliveryOptions options) {
    Object body = frame.getValue("body");
    Message<Object> answered = awaitingAnswer.remove(address);
    if (answered != null) {
      if (frame.getValue("failureCode") instanceof Number code) {
        answered.fail(code.intValue(), frame.getValue("message") instanceof String m ? m : "");
      } else {
        answered.reply(body, options);
      }
      return;
    }
    if (address.startsWith(REPLY_PREFIX)) {
      Frames.write(socket, Frames.err("access_denied")); // not a reply address this connection was given
      return;
    }
    String replyAddress = frame.getValue("replyAddress") instanceof String r ? r : null;
    if (replyAddress == null) {
      if (Bus.roleServing(address) == null) {
        bus.send(address, body, options);
      } else {
        MemberRouter.request(vertx, address, body, options); // routed like a request; nobody waits for the answer
      }
      return;
    }
    MemberRouter.request(vertx, address, body, options).onComplete(ar -> {
      if (ar.succeeded()) {
        Message<Object> answer = ar.result();
        expectAnswer(answer);
        Frames.write(socket, message(replyAddress, answer));
      } else {
        Frames.write(socket, failure(address, replyAddress, ar.cause()));
      }
    });
  }

  private void register(String address) {
    if (registrations.containsKey(address)) {
      return; // registered already: one subscription per address and connection
    }
    if (registrations.size() >= MAX_REGISTRATIONS) {
      Frames.write(socket, new JsonObject().put("type", "err").put("address", address).put("failureCode", 429)
          .put("failureType", "RECIPIENT_FAILURE").put("message", "limited: a connection may hold at most "
              + MAX_REGISTRATIONS + " subscriptions"));
      return;
    }
    registrations.put(address, bus.consumer(address, msg -> {
      expectAnswer(msg);
      Frames.write(socket, message(msg.address(), msg));
    }));
  }

  private void unregister(String address) {
    MessageConsumer<Object> consumer = registrations.remove(address);
    if (consumer == null) {
      Frames.write(socket, Frames.err("unknown_address"));
    } else {
      consumer.unregister();
    }
  }

  /** A message that asks for an answer: the client may answer it, within a bound. */
  private void expectAnswer(Message<Object> msg) {
    if (msg.replyAddress() == null) {
      return;
    }
    if (awaitingAnswer.size() >= MAX_AWAITING_ANSWER) {
      msg.fail(503, "unavailable: the bridge client has " + MAX_AWAITING_ANSWER + " messages left to answer");
      return;
    }
    awaitingAnswer.put(msg.replyAddress(), msg);
  }

  private static JsonObject message(String address, Message<Object> msg) {
    JsonObject headers = new JsonObject();
    for (Entry<String, String> h : msg.headers()) {
      headers.put(h.getKey(), h.getValue());
    }
    JsonObject frame = new JsonObject().put("type", "message").put("address", address);
    if (msg.replyAddress() != null) {
      frame.put("replyAddress", msg.replyAddress());
    }
    return frame.put("headers", headers).put("body", msg.body()).put("send", msg.isSend());
  }

  private static JsonObject failure(String address, String replyAddress, Throwable err) {
    JsonObject frame = new JsonObject().put("type", "err").put("address", replyAddress).put("sourceAddress", address);
    if (err instanceof ReplyException re) {
      return frame.put("failureCode", re.failureCode()).put("failureType", re.failureType().name())
          .put("message", re.getMessage());
    }
    return frame.put("failureCode", 500).put("failureType", "RECIPIENT_FAILURE").put("message", "internal error");
  }

  /** The headers {@link FrameGuard} let through: {@code timeout}, {@code localOnly}, and strings. */
  private static DeliveryOptions deliveryOptions(JsonObject headers) {
    DeliveryOptions options = new DeliveryOptions();
    if (headers == null) {
      return options;
    }
    for (String name : headers.fieldNames()) {
      switch (name) {
        case "timeout" -> options.setSendTimeout(headers.getLong(name));
        case "localOnly" -> options.setLocalOnly(headers.getBoolean(name));
        default -> options.addHeader(name, headers.getString(name));
      }
    }
    return options;
  }

  private static String abbreviated(String s) {
    String printable = s.replaceAll("[^\\x20-\\x7e]", "?");
    return printable.length() <= 32 ? printable : printable.substring(0, 32) + "...";
  }
}
