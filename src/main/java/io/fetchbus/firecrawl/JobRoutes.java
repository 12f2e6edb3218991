package io.fetchbus.firecrawl;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.CrawlJob;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.Fields;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.bus.PageQuery;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.UUID;

/**
 * Firecrawl's crawl and batch scrape, v1 and v2: start, status (paged, with {@code next} as an absolute URL), cancel
 * and errors, and the status WebSocket ({@link JobSocket}), each a translation of the same operation on Fetchbus's
 * crawl and batch jobs ({@code /v1/crawls}, {@code /v1/batches}) over the bus. A crawl's status path answers a batch
 * too, and the other way round: Firecrawl's v1 SDK polls a batch at {@code /v1/crawl/{id}}.
 */
final class JobRoutes {
  static final String IDEMPOTENCY_KEY = "x-idempotency-key";
  /** A status page's documents by default, as Firecrawl's. */
  static final int DEFAULT_PAGE = 100;
  /** How many of a job's errors an answer lists at most: Firecrawl lists all, Fetchbus bounds every answer. */
  static final int MAX_ERRORS = 1000;
  private static final Set<String> STATUS_PARAMETERS = Set.of("limit", "skip", "cursor");

  private final Vertx vertx;
  private final FirecrawlRoutes.Api api;
  private final DeliveryOptions storeDelivery;
  private final int maxLimit;
  private final Integer retentionDays;
  private final JobSocket socket;

  JobRoutes(Vertx vertx, FirecrawlRoutes.Api api, long storeTimeoutMs, int maxLimit, Integer retentionDays) {
    this.vertx = vertx;
    this.api = api;
    this.storeDelivery = new DeliveryOptions().setSendTimeout(storeTimeoutMs);
    this.maxLimit = maxLimit;
    this.retentionDays = retentionDays;
    this.socket = new JobSocket(vertx, storeDelivery, retentionDays);
  }

  void mount(Router router) {
    for (int version = 1; version <= 2; version++) {
      int v = version;
      String crawl = "/v" + v + "/crawl";
      String batch = "/v" + v + "/batch/scrape";
      router.post(crawl).handler(ctx -> startCrawl(ctx, v, crawl));
      router.get(crawl + "/active").handler(this::active);
      router.get(crawl + "/ongoing").handler(this::active);
      router.post(batch).handler(ctx -> startBatch(ctx, v, batch));
      for (String base : new String[] {crawl, batch}) {
        router.get(base + "/:id").handler(ctx -> statusOrWatch(ctx, base));
        router.delete(base + "/:id").handler(this::cancel);
        router.get(base + "/:id/errors").handler(this::errors);
        if (v == 1) {
          // Firecrawl's v1 JavaScript SDK (1.x) asks for a job's errors with a DELETE: answered as the GET, deleting nothing.
          router.delete(base + "/:id/errors").handler(this::errors);
        }
      }
    }
  }

  private void startCrawl(RoutingContext ctx, int version, String base) {
    JsonObject spec;
    try {
      spec = CrawlRequest.spec(FirecrawlRoutes.body(ctx), version, maxLimit);
    } catch (RuntimeException e) {
      ctx.fail(e);
      return;
    }
    submit(ctx, "crawl", spec).onSuccess(job -> ctx.json(new JsonObject().put("success", true)
        .put("id", job.getString("id")).put("url", absolute(ctx, base + "/" + job.getString("id")))));
  }

  private void startBatch(RoutingContext ctx, int version, String base) {
    BatchRequest batch;
    try {
      batch = BatchRequest.from(FirecrawlRoutes.body(ctx), version);
    } catch (RuntimeException e) {
      ctx.fail(e);
      return;
    }
    submit(ctx, "batch", batch.spec()).onSuccess(job -> {
      JsonObject answer = new JsonObject().put("success", true).put("id", job.getString("id"))
          .put("url", absolute(ctx, base + "/" + job.getString("id")));
      if (!batch.invalidUrls().isEmpty()) {
        answer.put("invalidURLs", batch.invalidUrls());
      }
      ctx.json(answer);
    });
  }

  /**
   * A submission, as {@code POST /v1/crawls} makes it: the same key quota, and {@code x-idempotency-key} as
   * Fetchbus's Idempotency-Key (the same request again answers the same job; another request under the key is
   * Firecrawl's 409).
   */
  private Future<JsonObject> submit(RoutingContext ctx, String kind, JsonObject spec) {
    String key = ctx.request().getHeader(IDEMPOTENCY_KEY);
    if (key != null && !key.matches("[\\x21-\\x7E]{1,255}")) {
      ctx.fail(Failure.INVALID.exception(IDEMPOTENCY_KEY + ": must be 1 to 255 visible ASCII characters"));
      return Future.failedFuture("refused");
    }
    JsonObject req = new JsonObject().put("kind", kind).put("spec", spec).put("keyName", api.keyName(ctx))
        .put("idempotencyKey", key);
    return MemberRouter.<JsonObject>request(vertx, Bus.CRAWL_SUBMIT, req, delivery(ctx)).map(Message::body)
        .onFailure(err -> ctx.fail(Failure.IDEMPOTENCY_KEY_REUSED.is(err)
            ? new HttpException(409, "Idempotency key already used: " + err.getMessage()) : err));
  }

  private void statusOrWatch(RoutingContext ctx, String base) {
    if (JobSocket.isUpgrade(ctx.request())) {
      socket.watch(ctx, ctx.pathParam("id"), api.release(ctx));
      return;
    }
    JsonObject query;
    try {
      query = pageQuery(ctx);
    } catch (RuntimeException e) {
      ctx.fail(e);
      return;
    }
    request(ctx, Bus.CRAWL_STATUS, new JsonObject().put("id", ctx.pathParam("id")))
        .compose(json -> {
          CrawlJob job = CrawlJob.from(json);
          return request(ctx, Bus.PAGES_FIND, query.put("jobId", job.id())
                  .put("formats", new JsonArray(JobAnswers.formats(job))))
              .map(pages -> JobAnswers.of(job, pages.getJsonArray("items"), next(ctx, base, job.id(), query, pages),
                  retentionDays));
        })
        .onSuccess(ctx::json);
  }

  /**
   * The listing of the job's pages a status answer shows: in the order stored, so that a running job's new pages come
   * after the cursor of {@code next}; {@code limit} and {@code skip} as Firecrawl takes them, {@code cursor} as
   * {@code next} gives it. Any other query parameter is a 400, as on every Fetchbus route.
   */
  private static JsonObject pageQuery(RoutingContext ctx) {
    for (String name : ctx.queryParams().names()) {
      if (!STATUS_PARAMETERS.contains(name)) {
        throw Failure.INVALID.exception(name + ": not a query parameter of a job's status (known: cursor, limit, skip)");
      }
    }
    JsonObject params = new JsonObject();
    STATUS_PARAMETERS.forEach(name -> {
      if (ctx.queryParams().get(name) != null) {
        params.put(name, ctx.queryParams().get(name));
      }
    });
    Long limit = Fields.wholeNumber(params, "limit", 1, PageQuery.MAX_LIMIT);
    Long skip = Fields.wholeNumber(params, "skip", 0, PageQuery.MAX_SKIP);
    JsonObject query = new JsonObject().put("oldestFirst", true).put("succeeded", true)
        .put("limit", limit == null ? DEFAULT_PAGE : limit.intValue());
    if (skip != null && skip > 0) {
      query.put("skip", skip);
    }
    String cursor = Fields.string(params, "cursor", 64);
    if (cursor != null) {
      query.put("after", cursor);
    }
    return query;
  }

  /** The absolute URL of the next status page, with the limit asked; null when the listing has no more now. */
  private static String next(RoutingContext ctx, String base, String id, JsonObject query, JsonObject pages) {
    String cursor = pages.getString("next");
    if (cursor == null) {
      return null;
    }
    String limit = ctx.queryParams().get("limit");
    return absolute(ctx, base + "/" + id + "?cursor=" + cursor + (limit == null ? "" : "&limit=" + limit));
  }

  /**
   * {@code {"success": true, "crawls": [{"id", "url", "options"}]}}: the crawls queued or running, newest first, at
   * most 100 of each, as {@code GET /v1/crawls?status=} lists them (every key's, as that listing does); {@code
   * options} is the Fetchbus crawl spec each runs with.
   */
  private void active(RoutingContext ctx) {
    JsonArray crawls = new JsonArray();
    Future<JsonObject> running = MemberRouter.<JsonObject>request(vertx, Bus.CRAWL_LIST, new JsonObject()
        .put("kind", "crawl").put("status", CrawlJob.RUNNING).put("limit", 100), delivery(ctx)).map(Message::body);
    Future<JsonObject> queued = MemberRouter.<JsonObject>request(vertx, Bus.CRAWL_LIST, new JsonObject()
        .put("kind", "crawl").put("status", CrawlJob.QUEUED).put("limit", 100), delivery(ctx)).map(Message::body);
    Future.all(running, queued).onFailure(ctx::fail).onSuccess(both -> {
      for (Future<JsonObject> list : java.util.List.of(running, queued)) {
        list.result().getJsonArray("items").forEach(o -> {
          JsonObject job = (JsonObject) o;
          JsonObject spec = job.getJsonObject("spec", new JsonObject());
          crawls.add(new JsonObject().put("id", job.getString("id")).put("url", spec.getString("url"))
              .put("options", spec));
        });
      }
      ctx.json(new JsonObject().put("success", true).put("crawls", crawls));
    });
  }

  private void cancel(RoutingContext ctx) {
    request(ctx, Bus.CRAWL_CANCEL, new JsonObject().put("id", ctx.pathParam("id")))
        .onSuccess(job -> ctx.json(new JsonObject().put("success", true)
            .put("status", JobAnswers.status(CrawlJob.from(job)))));
  }

  /**
   * {@code {"errors": [{"id", "timestamp", "url", "code", "error"}], "robotsBlocked": [url]}}: the job's URLs that
   * failed for good, and those robots.txt disallowed, at most {@value #MAX_ERRORS} in all. {@code id} is made from
   * the job and the URL (Fetchbus has no scrape ids for failures), so that it stays the same from answer to answer.
   */
  private void errors(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    JsonObject answer = new JsonObject().put("errors", new JsonArray()).put("robotsBlocked", new JsonArray());
    errors(ctx, id, null, answer).onSuccess(ctx::json);
  }

  private Future<JsonObject> errors(RoutingContext ctx, String id, String after, JsonObject answer) {
    JsonObject req = new JsonObject().put("id", id).put("limit", 100);
    if (after != null) {
      req.put("after", after);
    }
    return request(ctx, Bus.CRAWL_ERRORS, req).compose(page -> {
      for (Object o : page.getJsonArray("items")) {
        JsonObject item = (JsonObject) o;
        if ("robots".equals(item.getString("state"))) {
          answer.getJsonArray("robotsBlocked").add(item.getString("url"));
        } else {
          answer.getJsonArray("errors").add(new JsonObject()
              .put("id", UUID.nameUUIDFromBytes((id + " " + item.getString("url")).getBytes(StandardCharsets.UTF_8))
                  .toString())
              .put("timestamp", item.getValue("at"))
              .put("url", item.getString("url"))
              .put("code", item.getString("errorClass"))
              .put("error", item.getString("error")));
        }
      }
      int listed = answer.getJsonArray("errors").size() + answer.getJsonArray("robotsBlocked").size();
      String next = page.getString("next");
      return next == null || listed >= MAX_ERRORS ? Future.succeededFuture(answer) : errors(ctx, id, next, answer);
    });
  }

  /** A bus request for this HTTP request, tagged with its request id; a failure goes to the Firecrawl error handler. */
  private Future<JsonObject> request(RoutingContext ctx, String address, JsonObject body) {
    return MemberRouter.<JsonObject>request(vertx, address, body, delivery(ctx)).map(Message::body)
        .onFailure(ctx::fail);
  }

  private DeliveryOptions delivery(RoutingContext ctx) {
    DeliveryOptions options = new DeliveryOptions(storeDelivery);
    String requestId = api.requestId(ctx);
    return requestId == null ? options : options.addHeader(Bus.REQUEST_ID, requestId);
  }

  /**
   * {@code path} as an absolute URL on the scheme and host the request came to (its Host header), as Firecrawl's
   * {@code next} and {@code url} are: a client behind the same name follows them as they are.
   */
  static String absolute(RoutingContext ctx, String path) {
    String host = ctx.request().getHeader(HttpHeaders.HOST);
    if ((host == null || host.isBlank()) && ctx.request().authority() != null) {
      var authority = ctx.request().authority(); // HTTP/2's :authority
      host = authority.host() + (authority.port() > 0 ? ":" + authority.port() : "");
    }
    if (host == null || host.isBlank()) {
      host = ctx.request().localAddress().hostAddress() + ":" + ctx.request().localAddress().port();
    }
    return ctx.request().scheme() + "://" + host + path;
  }
}
