package io.fetchbus.api;

import io.fetchbus.api.http.RequestLog;
import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.bus.PageQuery;
import io.fetchbus.export.WarcRecords;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/crawls/{id}/export} and {@code /v1/batches/{id}/export}: every page of a job as JSON Lines or as a
 * WARC file ({@code format=warc}, {@link WarcRecords}), in one chunked answer. The pages come from the store a listing at a time (keyset pagination: {@link Bus#PAGES_FIND}
 * with the job, the formats and the cursor of the previous listing), and the next listing is asked for only once
 * the client has taken the last one ({@code drainHandler}): a slow reader slows the export down, a reader that
 * went away ends it, and each export holds one listing (at most {@link PageQuery#MAX_CONTENT_BYTES} of content)
 * at a time, whatever the job's size. At most {@link #MAX_RUNNING} exports run at once on a node (429 beyond),
 * which bounds what they hold together.
 */
final class PageExport {
  private static final Logger LOG = LoggerFactory.getLogger(PageExport.class);
  /** Exports running at once in this JVM: each may hold one listing's content, up to 4 MiB and its encoding. */
  static final int MAX_RUNNING = 4;
  private static final AtomicInteger RUNNING = new AtomicInteger();
  /** Records per listing: small enough to start streaming at once, large enough to cost few queries. */
  private static final int PAGES_PER_LISTING = 100;

  private final Vertx vertx;
  private final DeliveryOptions delivery;

  PageExport(Vertx vertx, DeliveryOptions delivery) {
    this.vertx = vertx;
    this.delivery = delivery;
  }

  /** {@code GET /v1/crawls/{id}/export}, {@code /v1/batches/{id}/export}: the job's pages. */
  void job(RoutingContext ctx, String kind) {
    JsonObject params = params(ctx);
    if (params == null || !admitted(ctx)) {
      return;
    }
    request(ctx, Bus.CRAWL_STATUS, new JsonObject().put("id", ctx.pathParam("id")))
        .map(job -> PageQuery.from(params.put("jobId", job.getString("id"))))
        .onSuccess(query -> start(ctx, query, kind + "-" + query.jobId()))
        .onFailure(ctx::fail);
  }

  /** {@code GET /v1/pages/export}: the pages a listing's filter keeps ({@code url}, {@code host}, {@code jobId}). */
  void listing(RoutingContext ctx) {
    JsonObject params = params(ctx);
    if (params == null) {
      return;
    }
    PageQuery query = PageRoutes.pageQuery(ctx, params, "url", "host", "jobId");
    if (query != null && admitted(ctx)) {
      start(ctx, query, "pages");
    }
  }

  /**
   * What the export asks the store for, from {@code format}, {@code formats} and {@code latest}; null once a problem
   * was answered. A WARC holds the fetches with a body, every one unless {@code latest} says otherwise.
   */
  private static JsonObject params(RoutingContext ctx) {
    boolean warc = warc(ctx);
    JsonObject params = new JsonObject().put("limit", PAGES_PER_LISTING);
    if (ctx.queryParams().get("formats") != null) {
      if (warc) {
        ctx.fail(Failure.INVALID.exception("formats: a WARC holds the responses as fetched; formats apply to "
            + "format=jsonl only"));
        return null;
      }
      params.put("formats", ctx.queryParams().get("formats"));
    }
    if (warc) {
      params.put("succeeded", true); // a failed attempt has no response to archive
    }
    if (ctx.queryParams().get("latest") != null) {
      params.put("latest", Boolean.parseBoolean(ctx.queryParams().get("latest")));
    } else if (warc) {
      params.put("latest", false); // an archive holds every fetch
    }
    return params;
  }

  private static boolean warc(RoutingContext ctx) {
    return "warc".equals(ctx.queryParams().get("format"));
  }

  /** One more export running on this node, or a 429 when {@link #MAX_RUNNING} are. */
  private static boolean admitted(RoutingContext ctx) {
    if (RUNNING.incrementAndGet() > MAX_RUNNING) {
      RUNNING.decrementAndGet();
      ctx.fail(Failure.LIMITED.exception(MAX_RUNNING + " exports are running on this node already; retry once one "
          + "has ended"));
      return false;
    }
    ctx.addEndHandler(v -> RUNNING.decrementAndGet());
    return true;
  }

  /** Streams the pages of {@code query} to a file named {@code name} and the format's extension. */
  private void start(RoutingContext ctx, PageQuery query, String name) {
    if (warc(ctx)) {
      new WarcStream(ctx, name, query).start();
    } else {
      next(ctx, query, name + ".jsonl");
    }
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
   * One WARC export: the {@code warcinfo} record, then each listing's pages in bites of at most {@link
   * PageQuery#MAX_CONTENT_BYTES} of bodies ({@link Bus#PAGES_CAPTURES}), their records made on a worker thread, the
   * next bite asked for once the client has taken the last one.
   */
  private final class WarcStream {
    private final RoutingContext ctx;
    private final String filename;
    private final WarcRecords records;
    private PageQuery query;

    WarcStream(RoutingContext ctx, String name, PageQuery query) {
      this.ctx = ctx;
      this.query = query;
      this.filename = name + ".warc.gz";
      this.records = new WarcRecords("Fetchbus", "pages stored by Fetchbus (" + name + "), "
          + (query.latest() ? "each URL's newest fetch" : "every fetch"));
    }

    void start() {
      vertx.executeBlocking(() -> records.warcinfo(filename, Instant.now()), false).onComplete(ar -> {
        if (ar.failed()) {
          fail(ctx, ar.cause());
          return;
        }
        // Each record is a gzip member already: compressing the answer again would only cost CPU.
        ctx.response().setChunked(true).putHeader("Content-Type", "application/warc")
            .putHeader("Content-Encoding", "identity")
            .putHeader("Content-Disposition", "attachment; filename=\"" + filename + "\"");
        ctx.response().write(ar.result());
        listing();
      });
    }

    private void listing() {
      request(ctx, Bus.PAGES_FIND, query.toJson()).onComplete(ar -> {
        if (ctx.response().closed()) {
          return;
        }
        if (ar.failed()) {
          fail(ctx, ar.cause());
          return;
        }
        List<JsonObject> pages = new ArrayList<>();
        ar.result().getJsonArray("items").forEach(p -> pages.add((JsonObject) p));
        String after = ar.result().getString("next");
        bites(pages, 0, () -> {
          if (after == null) {
            ctx.response().end();
          } else {
            query = query.after(after);
            listing();
          }
        });
      });
    }

    /** Writes {@code pages} from {@code from} on, a bite at a time, then runs {@code then}. */
    private void bites(List<JsonObject> pages, int from, Runnable then) {
      if (from == pages.size()) {
        then.run();
        return;
      }
      int to = from;
      long bytes = 0;
      while (to < pages.size() && (to == from || bytes + pages.get(to).getLong("bytes", 0L) <= PageQuery.MAX_CONTENT_BYTES)) {
        bytes += pages.get(to).getLong("bytes", 0L);
        to++;
      }
      List<JsonObject> bite = pages.subList(from, to);
      int end = to;
      JsonArray ids = new JsonArray();
      bite.forEach(p -> ids.add(p.getLong("id")));
      request(ctx, Bus.PAGES_CAPTURES, new JsonObject().put("ids", ids))
          .compose(answer -> {
            Map<Long, JsonObject> captures = new HashMap<>();
            answer.getJsonArray("items").forEach(c -> captures.put(((JsonObject) c).getLong("id"), (JsonObject) c));
            // A page deleted since it was listed has no capture any more: it is left out.
            List<JsonObject> kept = bite.stream().filter(p -> captures.containsKey(p.getLong("id")))
                .map(p -> p.copy().put("capture", captures.get(p.getLong("id")))).toList();
            return vertx.executeBlocking(() -> records.pages(kept), false);
          })
          .onComplete(ar -> {
            if (ctx.response().closed()) {
              return;
            }
            if (ar.failed()) {
              fail(ctx, ar.cause());
              return;
            }
            ctx.response().write(ar.result());
            if (ctx.response().writeQueueFull()) {
              ctx.response().drainHandler(v -> bites(pages, end, then));
            } else {
              bites(pages, end, then);
            }
          });
    }
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
