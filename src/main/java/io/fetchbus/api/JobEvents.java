package io.fetchbus.api;

import io.fetchbus.api.http.RequestLog;
import io.fetchbus.bus.Bus;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.bus.CrawlJob;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code GET /v1/crawls/{id}/events}: the job's progress as Server-Sent Events. The current state comes first,
 * then an event whenever the state changes and at most one a second otherwise; the stream ends after the
 * final state. A comment line every 15 s keeps idle connections (and proxies) open ({@link EventStream}).
 */
final class JobEvents {
  static final long MIN_INTERVAL_MS = 1_000;
  /** At most one event a second: a client this far behind has stopped reading. */
  private static final int MAX_QUEUED = 64;

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
          EventStream events = EventStream.admit(vertx, ctx, "job", Integer.MAX_VALUE, MAX_QUEUED,
              EventStream.HEARTBEAT_MS);
          if (events != null) {
            new Stream(events, msg.body()).start();
          }
        });
  }

  /** One client's stream: subscribed to the job's progress until the job ends or the client goes away. */
  private final class Stream {
    private final EventStream events;
    private final String jobId;
    private long flushTimer = -1;
    private long lastSentAt;
    private String lastStatus;
    private JsonObject pending;

    Stream(EventStream events, JsonObject job) {
      this.events = events;
      this.jobId = job.getString("id");
      this.pending = job;
    }

    void start() {
      // Subscribed first, then the current state: a change in between is sent, not lost.
      events.start(Bus.CRAWL_PROGRESS, job -> {
        if (jobId.equals(job.getString("id"))) {
          offer(job);
        }
      }).onComplete(ar -> {
        JsonObject first = pending;
        pending = null;
        send(first);
      });
    }

    /** State changes go out at once; other progress at most once a second, the latest winning. */
    private void offer(JsonObject job) {
      if (events.ended()) {
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
      if (events.ended() || job == null) {
        vertx.cancelTimer(flushTimer);
        return;
      }
      lastSentAt = System.currentTimeMillis();
      lastStatus = job.getString("status");
      events.send("progress", job);
      if (CrawlJob.from(job).finished()) {
        vertx.cancelTimer(flushTimer);
        events.end();
      }
    }
  }
}
