package io.fetchbus.extract;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@link Bus#EXTRACT}: {@code {"url","contentType","body": Buffer,"formats"?: [name]}} -> {@code {"title"}}
 * plus one key per requested {@link Format} (default: metadata). Deployed as a worker verticle: HTML parsing is
 * CPU work and must never run on an event loop. Each instance handles one message at a time; parallelism comes
 * from the instance count.
 */
public final class ExtractVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ExtractVerticle.class);

  @Override
  public Future<?> start() {
    return vertx.eventBus().<JsonObject>consumer(Bus.EXTRACT, this::extract).completion();
  }

  private void extract(Message<JsonObject> msg) {
    JsonObject req = msg.body();
    if (req == null) {
      msg.fail(Failure.INVALID.code, "body: must be a JSON object");
      return;
    }
    Set<Format> formats;
    try {
      formats = Format.parse(req.getValue("formats"));
    } catch (ReplyException invalid) {
      msg.fail(invalid.failureCode(), invalid.getMessage());
      return;
    }
    try {
      msg.reply(HtmlExtractor.extract(req.getString("url"), req.getString("contentType"), req.getBuffer("body"), formats));
    } catch (Exception e) {
      // A page jsoup cannot read still gets stored, without a title.
      LOG.debug("could not extract {}: {}", req.getString("url"), e.toString());
      msg.reply(new JsonObject().putNull("title"));
    }
  }
}
