package io.fetchbus.bus;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of {@link Bus#EXTRACT}, shared by everyone on a node who stores pages. The extract
 * verticles are workers: a message sent to a busy one waits in its context's queue, which nothing on the
 * receiving side can bound. So the bound lives here: at most {@code extract.maxQueued} extractions are
 * outstanding per node, and past it a request fails at once with 503 instead of joining an ever longer queue.
 */
public final class Extraction implements Shareable {
  private static final Logger LOG = LoggerFactory.getLogger(Extraction.class);

  private final Vertx vertx;
  private final int maxQueued;
  private final long timeoutMs;
  private final AtomicInteger outstanding = new AtomicInteger();

  private Extraction(Vertx vertx, int maxQueued, long timeoutMs) {
    this.vertx = vertx;
    this.maxQueued = maxQueued;
    this.timeoutMs = timeoutMs;
  }

  /**
   * The node's one instance, bounded by the {@code extract.maxQueued} of the first config that asks, waiting at
   * most {@code extract.timeoutMs} for an answer.
   */
  public static Extraction shared(Vertx vertx, JsonObject config) {
    JsonObject extract = config.getJsonObject("extract", new JsonObject());
    int max = extract.getInteger("maxQueued", 256);
    long timeoutMs = extract.getLong("timeoutMs", 30_000L);
    return vertx.sharedData().<String, Extraction>getLocalMap("fetchbus.bus")
        .computeIfAbsent("extraction", k -> new Extraction(vertx, max, timeoutMs));
  }

  /**
   * Every format of a fetched page, extracted once when it is stored so that later reads never parse it again.
   * A page that is not HTML or text, or that cannot be read, gets {@code {}}: it is stored without them. Only
   * the bound fails the future (503): the caller decides whether to retry.
   */
  public Future<JsonObject> allFormats(FetchResult result, String requestId) {
    return extract(result, requestId).otherwise(err -> {
      LOG.warn("extracting {} failed, storing it without extracted formats: {}", result.finalUrl(), err.getMessage());
      return new JsonObject();
    });
  }

  /**
   * The same, except that a page that could not be extracted now (the bound, no extract verticle, an extract node
   * that died and timed out) fails: for a crawl, whose links come from the extraction, storing the page without
   * them would lose every page reachable only through it. The crawl gives such an entry back instead.
   */
  public Future<JsonObject> allFormatsOrFail(FetchResult result) {
    return extract(result, null);
  }

  private Future<JsonObject> extract(FetchResult result, String requestId) {
    boolean readable = MediaTypes.isHtml(result.contentType()) || MediaTypes.isText(result.contentType());
    if (!readable || result.body() == null || result.body().length() == 0) {
      return Future.succeededFuture(new JsonObject());
    }
    if (outstanding.incrementAndGet() > maxQueued) {
      outstanding.decrementAndGet();
      return Future.failedFuture(Failure.UNAVAILABLE.exception("extraction is saturated on this node ("
          + maxQueued + " pages waiting, extract.maxQueued); retry later"));
    }
    JsonObject req = new JsonObject().put("url", result.finalUrl()).put("contentType", result.contentType())
        .put("body", result.body()).put("formats", new JsonArray(Formats.EXTRACTED));
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(timeoutMs);
    if (requestId != null) {
      options.addHeader(Bus.REQUEST_ID, requestId);
    }
    return vertx.eventBus().<JsonObject>request(Bus.EXTRACT, req, options)
        .map(m -> m.body())
        .onComplete(ar -> outstanding.decrementAndGet());
  }

  /** Extractions outstanding on this node right now. */
  public int outstanding() {
    return outstanding.get();
  }
}
