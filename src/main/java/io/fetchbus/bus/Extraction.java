package io.fetchbus.bus;

import io.fetchbus.config.Settings;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import java.util.Collection;
import java.util.List;
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
    HandedOverJson.register(vertx);
  }

  /**
   * The node's one instance, bounded by the {@code extract.maxQueued} of the first config that asks, waiting at
   * most {@code extract.timeoutMs} for an answer.
   */
  public static Extraction shared(Vertx vertx, JsonObject config) {
    int max = Settings.number(config, "extract", "maxQueued").intValue();
    long timeoutMs = Settings.number(config, "extract", "timeoutMs").longValue();
    return vertx.sharedData().<String, Extraction>getLocalMap("fetchbus.bus")
        .computeIfAbsent("extraction", k -> new Extraction(vertx, max, timeoutMs));
  }

  /**
   * What a fetched page is stored with ({@link ContentFormats#toStore}, for a request that asked for {@code asked}),
   * extracted once so that later reads never parse it again. A page that is not HTML or text, or that cannot be
   * read, gets {@code {}}: it is stored without them.
   */
  public Future<JsonObject> toStore(FetchResult result, Collection<String> asked, String requestId) {
    return extract(result, ContentFormats.toStore(asked), requestId).otherwise(err -> {
      LOG.warn("extracting {} failed, storing it without extracted formats: {}", result.finalUrl(), err.getMessage());
      return new JsonObject();
    });
  }

  /**
   * The same, except that a page that could not be extracted now (the bound, no extract verticle, an extract node
   * that died and timed out) fails: for a crawl, whose links come from the extraction, storing the page without
   * them would lose every page reachable only through it. The crawl gives such an entry back instead.
   */
  public Future<JsonObject> toStoreOrFail(FetchResult result, Collection<String> asked) {
    return extract(result, ContentFormats.toStore(asked), null);
  }

  private Future<JsonObject> extract(FetchResult result, List<String> formats, String requestId) {
    return extract(result.finalUrl(), result.contentType(), result.body(), formats, requestId);
  }

  /**
   * {@code formats} of a stored body, for a read that asks for one that was not extracted when it was stored.
   * Fails with 503 past the bound, as a store-time extraction does.
   */
  public Future<JsonObject> extract(String url, String contentType, Buffer body, List<String> formats,
                                    String requestId) {
    boolean readable = MediaTypes.isHtml(contentType) || MediaTypes.isText(contentType);
    if (!readable || body == null || body.length() == 0) {
      return Future.succeededFuture(new JsonObject());
    }
    if (outstanding.incrementAndGet() > maxQueued) {
      outstanding.decrementAndGet();
      return Future.failedFuture(Failure.UNAVAILABLE.exception("extraction is saturated on this node ("
          + maxQueued + " pages waiting, extract.maxQueued); retry later"));
    }
    JsonObject req = new JsonObject().put("url", url).put("contentType", contentType)
        .put("body", body).put("formats", new JsonArray(formats));
    // The request is made for this message alone: its body goes to an extractor of this JVM without a copy.
    DeliveryOptions options = HandedOverJson.handOver(new DeliveryOptions().setSendTimeout(timeoutMs));
    if (requestId != null) {
      options.addHeader(Bus.REQUEST_ID, requestId);
    }
    return MemberRouter.<JsonObject>request(vertx, Bus.EXTRACT, req, options)
        .map(m -> m.body())
        .onComplete(ar -> outstanding.decrementAndGet());
  }

  /**
   * What a watch compares of a fetched page: {@code {"text", "simhash", "links"}} after the watch's CSS selectors
   * ({@code options}: {@code "include"?, "exclude"?}). Bounded like every other extraction (503 past it).
   */
  public Future<JsonObject> watch(String url, String contentType, Buffer body, JsonObject options) {
    if (outstanding.incrementAndGet() > maxQueued) {
      outstanding.decrementAndGet();
      return Future.failedFuture(Failure.UNAVAILABLE.exception("extraction is saturated on this node ("
          + maxQueued + " pages waiting, extract.maxQueued); retry later"));
    }
    JsonObject req = new JsonObject().put("url", url).put("contentType", contentType)
        .put("body", body == null ? Buffer.buffer() : body).put("watch", options);
    return MemberRouter.<JsonObject>request(vertx, Bus.EXTRACT, req, new DeliveryOptions().setSendTimeout(timeoutMs))
        .map(m -> m.body().getJsonObject("watch"))
        .onComplete(ar -> outstanding.decrementAndGet());
  }

  /** Extractions outstanding on this node right now. */
  public int outstanding() {
    return outstanding.get();
  }
}
