package io.fetchbus.firecrawl;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.CrawlJob;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FirecrawlDocument;
import io.fetchbus.bus.FailureReplies;
import io.fetchbus.bus.MemberRouter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Firecrawl's job status WebSocket ({@code GET /v1/crawl/{id}} and {@code /v2/crawl/{id}} with an Upgrade, the
 * {@code watcher} of the SDKs, which send the API key as the subprotocol): first {@code {"type": "catchup", "data":
 * status}} with the documents so far, then {@code {"type": "document", "data"}} for each page stored after them, and
 * once the job has ended and every page was sent, a close (1000) whose reason is {@code {"type": "done"}}, as
 * Firecrawl's server does. An unknown job closes with 1008 and {@code {"type": "error"}}.
 * <p>
 * It polls, as Firecrawl's server does: the job's status then its pages after the last one sent, every
 * {@value #POLL_MS} ms while nothing is new, at once while there is more, and never while the socket's write queue
 * is full (a slow client slows its socket, nothing else). Each socket holds one request slot of the API's admission
 * until it closes.
 */
final class JobSocket {
  static final long POLL_MS = 500;
  private static final int PAGE = 50;
  private static final Logger LOG = LoggerFactory.getLogger(JobSocket.class);

  private final Vertx vertx;
  private final DeliveryOptions delivery;
  private final Integer retentionDays;

  JobSocket(Vertx vertx, DeliveryOptions delivery, Integer retentionDays) {
    this.vertx = vertx;
    this.delivery = delivery;
    this.retentionDays = retentionDays;
  }

  static boolean isUpgrade(HttpServerRequest req) {
    return "websocket".equalsIgnoreCase(req.getHeader("Upgrade"));
  }

  /** Upgrades now, before anything asynchronous: the handshake reads the rest of the request. */
  void watch(RoutingContext ctx, String jobId, Runnable release) {
    ctx.request().toWebSocket()
        .onSuccess(ws -> new Watch(ws, jobId, release).tick())
        .onFailure(err -> {
          release.run();
          LOG.debug("WebSocket handshake for job {} failed: {}", jobId, err.getMessage());
        });
  }

  /** One client's watch of one job. */
  private final class Watch {
    private final ServerWebSocket ws;
    private final String jobId;
    private boolean caughtUp;
    private Long lastPageId;
    private boolean closed;
    private final Runnable release;
    private long timer = -1;

    Watch(ServerWebSocket ws, String jobId, Runnable release) {
      this.ws = ws;
      this.jobId = jobId;
      this.release = release;
      ws.closeHandler(v -> stop());
      ws.exceptionHandler(err -> LOG.debug("WebSocket of job {}: {}", jobId, err.getMessage()));
      ws.handler(ignored -> { }); // clients send nothing Fetchbus reads
    }

    private void tick() {
      timer = -1;
      if (closed) {
        return;
      }
      if (ws.writeQueueFull()) {
        ws.drainHandler(v -> tick());
        return;
      }
      request(Bus.CRAWL_STATUS, new JsonObject().put("id", jobId))
          .compose(json -> {
            CrawlJob job = CrawlJob.from(json);
            JsonObject query = new JsonObject().put("jobId", job.id()).put("oldestFirst", true).put("succeeded", true)
                .put("limit", PAGE).put("formats", new JsonArray(JobAnswers.formats(job)));
            if (lastPageId != null) {
              query.put("afterId", lastPageId);
            }
            return request(Bus.PAGES_FIND, query).map(pages -> send(job, pages));
          })
          .onSuccess(more -> next(more))
          .onFailure(this::fail);
    }

    /** Sends what is new; true when more may follow at once. */
    private Boolean send(CrawlJob job, JsonObject pages) {
      if (closed) {
        return false;
      }
      JsonArray items = pages.getJsonArray("items");
      if (!items.isEmpty()) {
        lastPageId = items.getJsonObject(items.size() - 1).getLong("id");
      }
      if (!caughtUp) {
        caughtUp = true;
        ws.writeTextMessage(new JsonObject().put("type", "catchup")
            .put("data", JobAnswers.of(job, items, null, retentionDays)).encode());
      } else {
        Set<String> formats = FirecrawlDocument.formatsOf(JobAnswers.formats(job));
        items.forEach(page -> ws.writeTextMessage(new JsonObject().put("type", "document")
            .put("data", JobAnswers.document((JsonObject) page, formats)).encode()));
      }
      if (pages.getString("next") != null) {
        return true;
      }
      if (job.finished()) {
        close((short) 1000, new JsonObject().put("type", "done"));
      }
      return false;
    }

    private void next(boolean more) {
      if (!closed) {
        timer = vertx.setTimer(more ? 1 : POLL_MS, t -> tick());
      }
    }

    private void fail(Throwable err) {
      if (Failure.NOT_FOUND.is(err)) {
        close((short) 1008, new JsonObject().put("type", "error").put("error", "Job not found"));
      } else {
        LOG.debug("WebSocket of job {} closed on a failure: {}", jobId, err.getMessage());
        close((short) 1011, new JsonObject().put("type", "error").put("error", "Fetchbus could not read the job ("
            + FailureReplies.status(err) + "); ask for its status"));
      }
    }

    /** The reason is a JSON message, as Firecrawl's: its SDKs read it. A close reason holds at most 123 bytes. */
    private void close(short code, JsonObject reason) {
      if (!closed) {
        closed = true;
        ws.close(code, reason.encode());
      }
    }

    private void stop() {
      closed = true;
      release.run();
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
    }

    private Future<JsonObject> request(String address, JsonObject body) {
      return MemberRouter.<JsonObject>request(vertx, address, body, delivery).map(Message::body);
    }
  }
}
