package io.fetchbus.extract;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.HandedOverJson;
import io.fetchbus.search.SearchSettings;
import io.fetchbus.search.SearchVector;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@link Bus#EXTRACT}: {@code {"url","contentType","body": Buffer,"formats"?: [name]}} -> {@code {"title"}}
 * plus one key per requested {@link Format} (default: metadata), and {@code "search"}, the page's
 * {@link SearchVector}, whenever the text is extracted and search is on. Deployed as a worker verticle: HTML parsing
 * is CPU work and must never run on an event loop. With {@code "watch": {"include"?, "exclude"?}} it answers
 * {@code {"watch": {"text", "simhash", "links"}}} instead: what a watch compares ({@link WatchText}). Each instance handles one message at a time; parallelism comes
 * from the instance count.
 */
public final class ExtractVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ExtractVerticle.class);

  private boolean searchable;
  /** What a page yields, its text and search vector, is handed to a requester of this JVM without a copy. */
  private final DeliveryOptions answer = HandedOverJson.handOver(new DeliveryOptions());

  @Override
  public Future<?> start() {
    searchable = SearchSettings.from(config()).enabled();
    HandedOverJson.register(vertx);
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
    if (req.getValue("watch") instanceof JsonObject watch) {
      try {
        JsonObject watched = new JsonObject().put("watch", WatchText.of(req.getString("url"),
            req.getString("contentType"), req.getBuffer("body"), watch));
        if (!stoppedMidway(msg)) {
          msg.reply(watched);
        }
      } catch (ReplyException invalid) {
        msg.fail(invalid.failureCode(), invalid.getMessage());
      } catch (Exception e) {
        if (stoppedMidway(msg)) {
          return;
        }
        LOG.debug("could not read {} for a watch: {}", req.getString("url"), e.toString());
        msg.fail(Failure.INVALID.code, "the page could not be read as HTML or text");
      }
      return;
    }
    try {
      JsonObject out = HtmlExtractor.extract(req.getString("url"), req.getString("contentType"), req.getBuffer("body"), formats);
      if (searchable && out.getString("text") != null) {
        // Here, on a worker, rather than in PostgreSQL, whose text search parser cost more than the rest of a save.
        out.put("search", SearchVector.of(out.getString("title"), out.getString("text")));
      }
      if (!stoppedMidway(msg)) {
        msg.reply(out, HandedOverJson.answering(msg, answer));
      }
    } catch (Exception e) {
      if (stoppedMidway(msg)) {
        return;
      }
      // A page jsoup cannot read still gets stored, without a title.
      LOG.debug("could not extract {}: {}", req.getString("url"), e.toString());
      msg.reply(new JsonObject().putNull("title"));
    }
  }

  /**
   * Whether the node's shutdown interrupted this thread while it read the page: the extraction's pool is closed with
   * the verticle, and jsoup takes an interrupt for the end of the body, so what it read would be a cut page. The
   * sender gets a 503 rather than that.
   */
  private static boolean stoppedMidway(Message<JsonObject> msg) {
    if (!Thread.interrupted()) {
      return false;
    }
    msg.fail(Failure.UNAVAILABLE.code, "extraction stopped midway: this node is shutting down; retry");
    return true;
  }
}
