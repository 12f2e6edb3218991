package io.fetchbus.bus;

import io.vertx.core.Handler;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.impl.MessageImpl;
import io.vertx.core.eventbus.impl.clustered.ClusteredMessage;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An inbound interceptor that lets through only bodies that are data: JSON objects and arrays (also as
 * {@link HandedOverJson}), strings, buffers and null (and the failures of replies). Anything else, above all a
 * Java-serialized object, is refused before its body is decoded: a request is failed with 400, and a line is logged. It applies to every message that came from
 * another node of the cluster, and to every message for a {@code fetchbus.*} address; the messages other verticles
 * of the same JVM send each other are theirs to type.
 * <p>
 * The codec is read from the message without decoding the body, through Vert.x's message class (internal API, the
 * only way to see it before decoding).
 */
public final class WireBodies implements Handler<DeliveryContext<Object>> {
  private static final Logger LOG = LoggerFactory.getLogger(WireBodies.class);
  /** The codecs of Vert.x for data (json object and array, string, buffer, null), the failure of a reply, ours. */
  private static final Set<String> ALLOWED = Set.of("jsonobject", "jsonarray", "string", "buffer", "null",
      "replyexception", HandedOverJson.NAME);
  private static final long LOG_EVERY_MS = 10_000;

  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong lastLogged = new AtomicLong();

  @Override
  public void handle(DeliveryContext<Object> ctx) {
    Message<Object> msg = ctx.message();
    // Which codec a message came with, and whether it came over the wire, are on the implementation classes only:
    // the public Message says neither, and they are what tells a peer's Java-serialized body from data.
    if (!(msg instanceof MessageImpl<?, ?> impl) || impl.codec() == null) {
      ctx.next();
      return;
    }
    boolean fromWire = msg instanceof ClusteredMessage<?, ?> cm && cm.isFromWire();
    String codec = impl.codec().name();
    if (ALLOWED.contains(codec) || !(fromWire || msg.address().startsWith("fetchbus."))) {
      ctx.next();
      return;
    }
    long n = refused.incrementAndGet();
    long now = System.currentTimeMillis();
    long last = lastLogged.get();
    if (now - last >= LOG_EVERY_MS && lastLogged.compareAndSet(last, now)) {
      LOG.warn("refused a message to {} {}whose body is not JSON, a string, a buffer or null (codec {}); {} refused so far",
          msg.address(), fromWire ? "from another node " : "", codec, n);
    }
    if (msg.replyAddress() != null) {
      msg.fail(Failure.INVALID.code, "body: must be JSON, a string, a buffer or null, not " + codec);
    }
  }

  /** Messages refused since this interceptor was installed. */
  public long refused() {
    return refused.get();
  }
}
