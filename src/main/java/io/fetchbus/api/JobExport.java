package io.fetchbus.api;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.bus.PageQuery;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/crawls/{id}/export} and {@code /v1/batches/{id}/export}: every page of a job as JSON Lines, in one
 * chunked answer. The pages come from the store a listing at a time (keyset pagination: {@link Bus#PAGES_FIND}
 * with the job, the formats and the cursor of the previous listing), and the next listing is asked for only once
 * the client has taken the last one ({@code drainHandler}): a slow reader slows the export down, a reader that
 * went away ends it, and each export holds one listing (at most {@link PageQuery#MAX_CONTENT_BYTES} of content)
 * at a time, whatever the job's size. At most {@link #MAX_RUNNING} exports run at once on a node (429 beyond),
 * which bounds what they hold together.
 */
final class JobExport {
  private static final Logger LOG = LoggerFactory.getLogger(JobExport.class);
  /** Exports running at once in this JVM: each may hold one listing's content, up to 4 MiB and its encoding. */
  static final int MAX_RUNNING = 4;
  private static final AtomicInteger RUNNING = new AtomicInteger();
  /** Records per listing: small enough to start streaming at once, large enough to cost few queries. */
  private static final int PAGES_PER_LISTING = 100;

  private final Vertx vertx;
  private final DeliveryOptions delivery;

  JobExport(Vertx vertx, DeliveryOptions delivery) {
    this.vertx = vertx;
    this.delivery = delivery;
  }

  void stream(RoutingContext ctx, String kind) {
    String id = ctx.pathParam("id");
    JsonObject params = new JsonObject().put("limit", PAGES_PER_LISTING);
    if (ctx.queryParams().get("formats") != null) {
      params.put("formats", ctx.queryParams().get("formats"));
    }
    if (ctx.queryParams().get("latest") != null) {
      params.put("latest", Boolean.parseBoolean(ctx.queryParams().get("latest")));
    }
    if (RUNNING.incrementAndGet() > MAX_RUNNING) {
      RUNNING.decrementAndGet();
      ctx.fail(Failure.LIMITED.exception(MAX_RUNNING + " exports are running on this node already; retry once one "
          + "has ended"));
      return;
    }
    ctx.addEndHandler(v -> RUNNING.decrementAndGet());
    request(ctx, Bus.CRAWL_STATUS, new JsonObject().put("id", id))
        .map(job -> PageQuery.from(params.put("jobId", job.getString("id"))))
        .onSuccess(query -> next(ctx, query, kind + "-" + query.jobId() + ".jsonl"))
        .onFailure(ctx::fail);
  }

  /** Asks the store for the next listing, writes it, and goes on once the client has taken it. */
  private void next(RoutingContext ctx, PageQuery query, String filename) {
    HttpServerResponse resp = ctx.response();
    request(ctx, Bus.PAGES_FIND, query.toJson()).onComplete(ar -> {
      if (resp.closed()) {
        return; // the reader went away: the export ends here
      }
      if (ar.failed()) {
        fail(ctx, ar.cause());
        return;
      }
      if (!resp.headWritten()) {
        resp.setChunked(true).putHeader("Content-Type", "application/jsonl; charset=utf-8")
            .putHeader("Content-Disposition", "attachment; filename=\"" + filename + "\"");
      }
      JsonArray items = ar.result().getJsonArray("items");
      Buffer lines = Buffer.buffer();
      for (int i = 0; i < items.size(); i++) {
        lines.appendBuffer(items.getJsonObject(i).toBuffer()).appendByte((byte) '\n');
      }
      String after = ar.result().getString("next");
      if (after == null) {
        resp.end(lines);
        return;
      }
      resp.write(lines);
      PageQuery rest = query.after(after);
      if (resp.writeQueueFull()) {
        resp.drainHandler(v -> next(ctx, rest, filename));
      } else {
        next(ctx, rest, filename);
      }
    });
  }

  /**
   * Before the first line, a failure is an ordinary problem answer. After it, the status is sent: the answer is reset,
   * without the chunked body's end, which every HTTP client reports as a cut answer, never as a whole one.
   */
  private void fail(RoutingContext ctx, Throwable err) {
    if (!ctx.response().headWritten()) {
      ctx.fail(err);
      return;
    }
    LOG.warn("export cut short after its first lines: {}", err.getMessage());
    ctx.response().reset(); // HTTP/1.1: the connection closes; HTTP/2: this stream only
  }

  private Future<JsonObject> request(RoutingContext ctx, String address, JsonObject body) {
    return MemberRouter.<JsonObject>request(vertx, address, body, new DeliveryOptions(delivery)
            .addHeader(Bus.REQUEST_ID, ctx.<String>get(RequestLog.REQUEST_ID)))
        .map(Message::body);
  }
}
