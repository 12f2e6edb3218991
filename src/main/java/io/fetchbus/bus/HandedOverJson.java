package io.fetchbus.bus;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.impl.clustered.ClusteredMessage;
import io.vertx.core.eventbus.impl.codecs.JsonObjectMessageCodec;
import io.vertx.core.json.JsonObject;

/**
 * A JSON object handed to a verticle of the same JVM as it is. Vert.x copies a JSON object at every local delivery,
 * a body in it too: on a miss the page's body crossed the bus three times (the fetch's answer, the extraction's
 * request, the save), each a deep copy on an event loop. Used for those messages only, whose senders build the
 * object for the message and never change it after, and whose receivers only read it; and only within the JVM:
 * {@link MemberRouter} sends them to another node with Vert.x's own codec, and {@link #answering} answers a message
 * that came from another node with it, so a node that does not know this codec never gets it. Its wire form, unused,
 * is Vert.x's (this class extends Vert.x's codec, internal API); {@link WireBodies} lets it through as data.
 */
public final class HandedOverJson extends JsonObjectMessageCodec {
  public static final String NAME = "fetchbus.json";

  HandedOverJson() {}

  /** Registers the codec on {@code vertx}'s event bus unless it is there already: every sender calls this first. */
  public static void register(Vertx vertx) {
    try {
      vertx.eventBus().registerCodec(new HandedOverJson());
    } catch (IllegalStateException registered) {
      // Another part of this node registered it first.
    }
  }

  /** A copy of {@code options} with this codec: the message's JSON object is handed over, not copied, in this JVM. */
  public static DeliveryOptions handOver(DeliveryOptions options) {
    return new DeliveryOptions(options).setCodecName(NAME);
  }

  /** The options to answer {@code msg} with: {@code handedOver} unless it came from another node. */
  public static DeliveryOptions answering(Message<?> msg, DeliveryOptions handedOver) {
    return msg instanceof ClusteredMessage<?, ?> cm && cm.isFromWire() ? new DeliveryOptions() : handedOver;
  }

  /** {@code options} for a message that may leave this JVM: with Vert.x's own codec. */
  static DeliveryOptions forTheWire(DeliveryOptions options) {
    return NAME.equals(options.getCodecName()) ? new DeliveryOptions(options).setCodecName(null) : options;
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
