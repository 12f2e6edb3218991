package io.fetchbus.bridge;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import java.nio.charset.StandardCharsets;

/**
 * The wire format of the Vert.x TCP event-bus bridge, which Fetchbus speaks unchanged so that its clients work:
 * each frame is a 4-byte big-endian length, then that many bytes of UTF-8 JSON, one object with a {@code type}.
 */
final class Frames {
  static final String SEND = "send";
  static final String PUBLISH = "publish";
  static final String REGISTER = "register";
  static final String UNREGISTER = "unregister";
  static final String PING = "ping";
  /**
   * The err frame the bridge module wrote after each refused frame. Clients written against the module (ours in
   * clients/python among them) expect it after a refusal, so it is kept.
   */
  static final String BLOCKED = "blocked by bridgeEvent handler";

  private Frames() {}

  static void write(NetSocket socket, JsonObject frame) {
    byte[] json = frame.encode().getBytes(StandardCharsets.UTF_8);
    socket.write(Buffer.buffer(4 + json.length).appendInt(json.length).appendBytes(json));
  }

  /** The bridge's own errors: an {@code err} frame with only a message. */
  static JsonObject err(String message) {
    return new JsonObject().put("type", "err").put("message", message);
  }
}
