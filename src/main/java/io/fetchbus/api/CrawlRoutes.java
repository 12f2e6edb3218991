package io.fetchbus.api;

import io.fetchbus.api.http.ApiKeys;
import io.fetchbus.api.http.RequestLog;
import io.fetchbus.bus.Bus;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.PageQuery;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import java.util.Locale;
import java.util.function.Function;

/**
 * The job routes: {@code /v1/crawls} and {@code /v1/batches} share every route but the submission, since a
 * batch is a crawl of depth 0 over a list of URLs. Each route is one or two bus requests.
 */
final class CrawlRoutes {
  private static final String IDEMPOTENCY_KEY = "Idempotency-Key";

  private final Vertx vertx;
  private final DeliveryOptions delivery;
  private final Function<RoutingContext, JsonObject> jsonBody;
  private final JobEvents events;
  private final PageExport export;
  private final long fetchTimeoutMs;

  CrawlRoutes(Vertx vertx, long storeTimeoutMs, long fetchTimeoutMs, Function<RoutingContext, JsonObject> jsonBody,
              PageExport export) {
    this.vertx = vertx;
    this.fetchTimeoutMs = fetchTimeoutMs;
    this.events = new JobEvents(vertx, storeTimeoutMs);
    this.delivery = new DeliveryOptions().setSendTimeout(storeTimeoutMs);
    this.export = export;
    this.jsonBody = jsonBody;
  }

  /** Attaches the handlers of the job operations of the contract. */
  void mount(RouterBuilder builder) {
    builder.getRoute("submitCrawl").addHandler(ctx -> submit(ctx, "crawl"));
    builder.getRoute("submitBatch").addHandler(ctx -> submit(ctx, "batch"));
    for (String kind : new String[] {"Crawl", "Batch"}) {
      String plural = kind.equals("Crawl") ? "Crawls" : "Batches";
      builder.getRoute("list" + plural).addHandler(ctx -> list(ctx, kind.toLowerCase(Locale.ROOT)));
      builder.getRoute("get" + kind).addHandler(this::status);
      builder.getRoute("cancel" + kind).addHandler(this::cancel);
      builder.getRoute("list" + kind + "Pages").addHandler(this::pages);
      builder.getRoute("list" + kind + "Errors").addHandler(this::errors);
      builder.getRoute("stream" + kind + "Events").addHandler(events::stream);
      builder.getRoute("export" + kind).addHandler(ctx -> export.job(ctx, kind.toLowerCase(Locale.ROOT)));
    }
  }

  /** 202 with the job and its Location; a retried submission with the same Idempotency-Key gets the same job. */
  private void submit(RoutingContext ctx, String kind) {
    JsonObject req;
    try {
      req = new JsonObject().put("kind", kind).put("spec", jsonBody.apply(ctx))
          .put("keyName", ctx.<String>get(ApiKeys.KEY_NAME)).put("idempotencyKey", idempotencyKey(ctx));
    } catch (RuntimeException e) {
      ctx.fail(e);
      return;
    }
    request(ctx, Bus.CRAWL_SUBMIT, req).onSuccess(job -> ctx.response().setStatusCode(202)
        .putHeader("Content-Type", "application/json")
        .putHeader("Location", job.getString("statusUrl")).end(job.encode()));
  }

  private static String idempotencyKey(RoutingContext ctx) {
    String key = ctx.request().getHeader(IDEMPOTENCY_KEY);
    if (key != null && !key.matches("[\\x21-\\x7E]{1,255}")) {
      throw Failure.INVALID.exception(IDEMPOTENCY_KEY + ": must be 1 to 255 visible ASCII characters");
    }
    return key;
  }

  private void list(RoutingContext ctx, String kind) {
    JsonObject req = new JsonObject().put("kind", kind);
    for (String name : new String[] {"status", "limit", "after"}) {
      if (ctx.queryParams().get(name) != null) {
        req.put(name, ctx.queryParams().get(name));
      }
    }
    request(ctx, Bus.CRAWL_LIST, req).onSuccess(list -> ctx.json(list));
  }

  private void status(RoutingContext ctx) {
    request(ctx, Bus.CRAWL_STATUS, new JsonObject().put("id", ctx.pathParam("id"))).onSuccess(job -> ctx.json(job));
  }

  /**
   * Cancels the job; with {@code pages=true}, deletes the pages it stored too, and says how many. The store goes on
   * deleting until the fetches in flight at the cancel have ended (each within {@code fetch.timeoutMs}), and answers
   * before the request's own deadline ({@code fetch.timeoutMs} + 15 s).
   */
  private void cancel(RoutingContext ctx) {
    Future<JsonObject> cancelled = request(ctx, Bus.CRAWL_CANCEL, new JsonObject().put("id", ctx.pathParam("id")));
    if (!"true".equals(ctx.queryParams().get("pages"))) {
      cancelled.onSuccess(job -> ctx.json(job));
      return;
    }
    DeliveryOptions deleting = new DeliveryOptions(delivery).setSendTimeout(fetchTimeoutMs + 12_000)
        .addHeader(Bus.REQUEST_ID, ctx.<String>get(RequestLog.REQUEST_ID));
    cancelled.onSuccess(job -> MemberRouter.<JsonObject>request(vertx, Bus.PAGES_DELETE,
            new JsonObject().put("jobId", job.getString("id")).put("settleMs", fetchTimeoutMs + 5_000), deleting)
        .onSuccess(deleted -> ctx.json(job.put("deletedPages", deleted.body().getInteger("deleted"))))
        .onFailure(ctx::fail));
  }

  /** The pages the job stored, newest first; 404 for an unknown job rather than an empty list. */
  private void pages(RoutingContext ctx) {
    PageQuery pageQuery = PageRoutes.pageQuery(ctx, new JsonObject(), "limit", "after", "formats");
    if (pageQuery == null) {
      return;
    }
    request(ctx, Bus.CRAWL_STATUS, new JsonObject().put("id", ctx.pathParam("id")))
        .compose(job -> request(ctx, Bus.PAGES_FIND, pageQuery.toJson().put("jobId", job.getString("id"))))
        .onSuccess(pages -> ctx.json(pages));
  }

  private void errors(RoutingContext ctx) {
    JsonObject req = new JsonObject().put("id", ctx.pathParam("id"));
    for (String name : new String[] {"limit", "after"}) {
      if (ctx.queryParams().get(name) != null) {
        req.put(name, ctx.queryParams().get(name));
      }
    }
    request(ctx, Bus.CRAWL_ERRORS, req).onSuccess(errors -> ctx.json(errors));
  }

  /** A bus request for this HTTP request, tagged with its request id; a failure goes to the problem handler. */
  private Future<JsonObject> request(RoutingContext ctx, String address, JsonObject body) {
    return MemberRouter.<JsonObject>request(vertx, address, body, new DeliveryOptions(delivery)
            .addHeader(Bus.REQUEST_ID, ctx.<String>get(RequestLog.REQUEST_ID)))
        .map(Message::body)
        .onFailure(ctx::fail);
  }
}
