package io.fetchbus.api;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.bus.CrawlJob;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code GET /v1/crawls/{id}/events}: the job's progress as Server-Sent Events. The current state comes first,
 * then an event whenever the state changes and at most one a second otherwise; the stream ends after the
 * final state. A comment line every 15 s keeps idle connections (and proxies) open.
 */
final class JobEvents {
  static final long MIN_INTERVAL_MS = 1_000;
  static final long HEARTBEAT_MS = 15_000;

  private final Vertx vertx;
  private final long storeTimeoutMs;

  JobEvents(Vertx vertx, long storeTimeoutMs) {
    this.vertx = vertx;
    this.storeTimeoutMs = storeTimeoutMs;
  }

  void stream(RoutingContext ctx) {
    MemberRouter.<JsonObject>request(vertx, Bus.CRAWL_STATUS, new JsonObject().put("id", ctx.pathParam("id")),
            new DeliveryOptions().setSendTimeout(storeTimeoutMs).addHeader(Bus.REQUEST_ID, ctx.get(RequestLog.REQUEST_ID)))
        .onFailure(ctx::fail)
        .onSuccess(msg -> {
          Stream stream = new Stream(ctx.response(), msg.body());
          stream.start();
          // A node shutting down ends its streams at once rather than at its grace period's end.
          ctx.request().connection().shutdownHandler(v -> stream.end());
        });
  }

  /** One client's stream: subscribed to the job's progress until the job ends or the client goes away. */
  private final class Stream {
    private final HttpServerResponse response;
    private final String jobId;
    private MessageConsumer<JsonObject> consumer;
    private long heartbeat = -1;
    private long flushTimer = -1;
    private long lastSentAt;
    private String lastStatus;
    private JsonObject pending;
    private boolean ended;

    Stream(HttpServerResponse response, JsonObject job) {
      this.response = response;
      this.jobId = job.getString("id");
      this.pending = job;
    }

    void start() {
      response.setChunked(true)
          .putHeader("Content-Type", "text/event-stream; charset=utf-8")
          .putHeader("Cache-Control", "no-cache")
          .putHeader("X-Accel-Buffering", "no");
      response.closeHandler(v -> stop());
      consumer = vertx.eventBus().consumer(Bus.CRAWL_PROGRESS, msg -> {
        if (jobId.equals(msg.body().getString("id"))) {
          offer(msg.body());
        }
      });
      heartbeat = vertx.setPeriodic(HEARTBEAT_MS, t -> {
        if (!ended) {
          response.write(": keep-alive\n\n");
        }
      });
      // Subscribed first, then the current state: a change in between is sent, not lost.
      consumer.completion().onComplete(ar -> {
        JsonObject first = pending;
        pending = null;
        send(first);
      });
    }

    /** State changes go out at once; other progress at most once a second, the latest winning. */
    private void offer(JsonObject job) {
      if (ended) {
        return;
      }
      long now = System.currentTimeMillis();
      if (!job.getString("status").equals(lastStatus) || now - lastSentAt >= MIN_INTERVAL_MS) {
        send(job);
        return;
      }
      pending = job;
      if (flushTimer < 0) {
        flushTimer = vertx.setTimer(MIN_INTERVAL_MS - (now - lastSentAt), t -> {
          flushTimer = -1;
          if (pending != null) {
            JsonObject latest = pending;
            pending = null;
            send(latest);
          }
        });
      }
    }

    private void send(JsonObject job) {
      if (ended || job == null) {
        return;
      }
      lastSentAt = System.currentTimeMillis();
      lastStatus = job.getString("status");
      response.write("event: progress\ndata: " + job.encode() + "\n\n");
      if (CrawlJob.from(job).finished()) {
        response.end();
        stop();
      }
    }

    void end() {
      if (!ended) {
        response.end();
        stop();
      }
    }

    private void stop() {
      ended = true;
      vertx.cancelTimer(heartbeat);
      vertx.cancelTimer(flushTimer);
      if (consumer != null) {
        consumer.unregister();
      }
    }
  }
}
