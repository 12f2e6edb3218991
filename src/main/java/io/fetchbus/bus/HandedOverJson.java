package io.fetchbus.bus;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

/**
 * A JSON object handed to a verticle of the same JVM as it is, and sent to another node as the same JSON as Vert.x's
 * own codec sends it. Vert.x copies a JSON object at every local delivery, a body in it too: on a miss the page's
 * body crossed the bus three times (the fetch's answer, the extraction's request, the save), each a deep copy on an
 * event loop. Used for those messages only: their sender builds the object for the message and never changes it
 * after, and their receiver only reads it. Every node registers it ({@link #register}); what it decodes from the
 * wire is a plain JSON object, as data as any ({@link WireBodies}).
 */
public final class HandedOverJson implements MessageCodec<JsonObject, JsonObject> {
  public static final String NAME = "fetchbus.json";

  HandedOverJson() {}

  /** Registers the codec on {@code vertx}'s event bus unless it is there already; every part that uses it calls this. */
  public static void register(Vertx vertx) {
    synchronized (HandedOverJson.class) {
      try {
        vertx.eventBus().registerCodec(new HandedOverJson());
      } catch (IllegalStateException registered) {
        // Another part of this node registered it first.
      }
    }
  }

  /** A copy of {@code options} with this codec: the message's JSON object is handed over, not copied, in this JVM. */
  public static DeliveryOptions handOver(DeliveryOptions options) {
    return new DeliveryOptions(options).setCodecName(NAME);
  }

  @Override
  public void encodeToWire(Buffer buffer, JsonObject json) {
    Buffer encoded = json.toBuffer();
    buffer.appendInt(encoded.length());
    buffer.appendBuffer(encoded);
  }

  @Override
  public JsonObject decodeFromWire(int pos, Buffer buffer) {
    int length = buffer.getInt(pos);
    return new JsonObject(buffer.slice(pos + 4, pos + 4 + length));
  }

  @Override
  public JsonObject transform(JsonObject json) {
    return json;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
