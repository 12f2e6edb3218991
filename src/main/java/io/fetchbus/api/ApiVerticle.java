package io.fetchbus.api;

import io.fetchbus.auth.Keys;
import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Extraction;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FetchRequest;
import io.fetchbus.bus.Formats;
import io.fetchbus.bus.PageQuery;
import io.fetchbus.bus.SearchRequest;
import io.fetchbus.ops.Metrics;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.ext.web.handler.TimeoutHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The REST API under {@code /v1}. It holds no state: every route is a composition of bus requests. */
public final class ApiVerticle extends VerticleBase {
  private static final java.util.regex.Pattern EVENT_STREAM =
      java.util.regex.Pattern.compile("/v1/(crawls|batches)/[^/]+/events");
  private static final Logger LOG = LoggerFactory.getLogger(ApiVerticle.class);

  private FetchFlow flow;
  private HttpServer server;

  @Override
  public Future<?> start() {
    JsonObject http = config().getJsonObject("http", new JsonObject());
    int maxRequestBytes = http.getInteger("maxRequestBytes", 65536);
    long fetchTimeoutMs = config().getJsonObject("fetch", new JsonObject()).getLong("timeoutMs", 30_000L);
    flow = new FetchFlow(vertx.eventBus(), context, PageSaves.shared(vertx), Extraction.shared(vertx, config()), fetchTimeoutMs,
        config().getJsonObject("pg", new JsonObject()).getLong("requestTimeoutMs", 10_000L));

    Problems problems = new Problems(maxRequestBytes);
    JsonObject auth = config().getJsonObject("auth", new JsonObject());
    return Keys.load(vertx, auth).compose(keys -> listen(http, maxRequestBytes, fetchTimeoutMs, problems, ApiKeys.of(keys)));
  }

  private Future<HttpServer> listen(JsonObject http, int maxRequestBytes, long fetchTimeoutMs, Problems problems,
                                    ApiKeys keys) {
    Router router = Router.router(vertx);
    router.route().handler(new RequestLog());
    // A client may not hold a request open for ever: past the fetch deadline plus a margin it gets a 503.
    // Event streams are meant to stay open: they end with their job, or when the client leaves.
    TimeoutHandler timeout = TimeoutHandler.create(fetchTimeoutMs + 15_000);
    router.route().handler(ctx -> {
      if (EVENT_STREAM.matcher(ctx.normalizedPath()).matches()) {
        ctx.next();
      } else {
        timeout.handle(ctx);
      }
    });
    if (!keys.isEmpty()) {
      router.route("/v1/*").handler(keys); // the probes (/health, /ready) stay open
    }
    router.route("/v1/*").handler(Admission.shared(vertx, config().getJsonObject("limits", new JsonObject())));
    router.route().handler(BodyHandler.create(false).setBodyLimit(maxRequestBytes));
    router.post("/v1/fetch").handler(this::fetch);
    router.get("/v1/pages").handler(this::listPages);
    router.get("/v1/search").handler(this::search);
    router.get("/v1/pages/:id").handler(this::getPage);
    router.get("/v1/pages/:id/content").handler(this::getContent);
    router.get("/v1/cache").handler(this::cacheStats);
    new CrawlRoutes(vertx, config().getJsonObject("pg", new JsonObject()).getLong("requestTimeoutMs", 10_000L),
        ApiVerticle::jsonBody).mount(router);
    router.get("/health").handler(HealthCheckHandler.createWithHealthChecks(
        HealthChecks.create(vertx).register("process", promise -> promise.complete(Status.OK()))));
    router.get("/ready").handler(HealthCheckHandler.createWithHealthChecks(readiness()));
    metrics(router);
    router.route().failureHandler(problems::handle);
    router.errorHandler(404, problems::handle);
    router.errorHandler(405, problems::handle);

    server = vertx.createHttpServer(new HttpServerOptions()
        .setHost(http.getString("host", "127.0.0.1"))
        .setPort(http.getInteger("port", 8080))
        .setIdleTimeout(60)
        .setMaxInitialLineLength(8192)
        .setMaxHeaderSize(16384));
    return server.requestHandler(router).listen()
        .onSuccess(s -> vertx.sharedData().getLocalMap(Bus.NODE_INFO).put(Bus.NODE_HTTP_PORT, s.actualPort()));
  }

  /** {@code GET /metrics} in Prometheus format, outside {@code /v1} like the probes; {@code metrics.key} guards it. */
  private void metrics(Router router) {
    JsonObject metrics = config().getJsonObject("metrics", new JsonObject());
    if (!metrics.getBoolean("enabled", true)) {
      return;
    }
    Metrics.prometheus(vertx).ifPresentOrElse(registry -> {
      var route = router.get("/metrics");
      String key = metrics.getString("key", "");
      if (!key.isBlank()) {
        route.handler(ApiKeys.of(List.of("metrics:" + key)));
      }
      route.handler(PrometheusScrapingHandler.create(registry));
    }, () -> LOG.warn("metrics.enabled is true, but this Vert.x instance was built without metrics: /metrics is not served"));
  }

  private FetchFlow flow(RoutingContext ctx) {
    return flow.forRequest(ctx.get(RequestLog.REQUEST_ID));
  }

  /** Ready when every verticle of this node is deployed, it is not shutting down, and the store can reach PostgreSQL. */
  private HealthChecks readiness() {
    return HealthChecks.create(vertx)
        .register("deployed", promise -> promise.complete(
            Boolean.TRUE.equals(vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_DEPLOYED)) ? Status.OK() : Status.KO()))
        .register("running", promise -> promise.complete(
            vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_SHUTDOWN_DEADLINE) == null ? Status.OK()
                : Status.KO(new JsonObject().put("detail", "shutting down"))))
        .register("store", 3_000, promise -> vertx.eventBus().request(Bus.STORE_PING, new JsonObject(),
                new DeliveryOptions().setSendTimeout(2_500))
            .onComplete(ar -> promise.complete(ar.succeeded() ? Status.OK()
                : Status.KO(new JsonObject().put("detail", ar.cause().getMessage())))));
  }

  /**
   * Takes no new connection, and lets the requests in progress finish until the node's shutdown deadline (event
   * streams end at once: their clients reconnect to another node); then the connections are closed.
   */
  @Override
  public Future<?> stop() {
    Object deadline = vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_SHUTDOWN_DEADLINE);
    long graceMs = deadline instanceof Long at ? Math.max(0, at - System.currentTimeMillis())
        : config().getJsonObject("shutdown", new JsonObject()).getLong("graceMs", 10_000L);
    return server == null ? Future.succeededFuture() : server.shutdown(graceMs, TimeUnit.MILLISECONDS);
  }

  private void fetch(RoutingContext ctx) {
    FetchRequest req;
    Set<String> formats;
    try {
      JsonObject body = jsonBody(ctx);
      // onlyIfCached and validators are for bus clients; over REST, maxAgeSeconds says how old a copy may be.
      req = FetchRequest.from(body).withoutBusOptions();
      formats = Formats.from(body);
    } catch (RuntimeException e) {
      ctx.fail(e);
      return;
    }
    flow(ctx).serve(req)
        .compose(served -> withFormats(ctx, served.page().toJson(), formats).map(page -> {
          if (served.created()) {
            ctx.response().setStatusCode(201).putHeader("Location", "/v1/pages/" + served.page().id());
          }
          if (served.revalidated()) {
            page.put("revalidated", true);
          }
          return page;
        }))
        .onSuccess(ctx::json)
        .onFailure(ctx::fail);
  }

  /** The page record with the formats asked beyond metadata, read from the store (they were extracted when stored). */
  private Future<JsonObject> withFormats(RoutingContext ctx, JsonObject page, Set<String> formats) {
    if (formats.equals(Formats.DEFAULT)) {
      return Future.succeededFuture(page);
    }
    return flow(ctx).storeRequest(Bus.PAGES_GET, new JsonObject().put("id", page.getLong("id"))
            .put("formats", new JsonArray(List.copyOf(formats))))
        .map(full -> full.put("fromCache", page.getBoolean("fromCache")));
  }

  private void getPage(RoutingContext ctx) {
    JsonObject req = new JsonObject().put("id", ctx.pathParam("id"));
    if (ctx.queryParams().get("formats") != null) {
      req.put("formats", ctx.queryParams().get("formats"));
    }
    flow(ctx).storeRequest(Bus.PAGES_GET, req)
        .onSuccess(ctx::json)
        .onFailure(ctx::fail);
  }

  private void getContent(RoutingContext ctx) {
    flow(ctx).storeRequest(Bus.PAGES_CONTENT, new JsonObject().put("id", ctx.pathParam("id")))
        .onSuccess(json -> {
          String type = json.getString("contentType");
          ctx.response()
              .putHeader("Content-Type", type == null ? "application/octet-stream" : type)
              // Stored pages are someone else's HTML: never let it run scripts in this origin.
              .putHeader("Content-Security-Policy", "sandbox")
              .putHeader("X-Content-Type-Options", "nosniff")
              .end(json.getBuffer("body"));
        })
        .onFailure(ctx::fail);
  }

  private void listPages(RoutingContext ctx) {
    JsonObject params = new JsonObject();
    for (String name : new String[] {"url", "host", "jobId", "limit", "after"}) {
      String value = ctx.queryParams().get(name);
      if (value != null) {
        params.put(name, value);
      }
    }
    PageQuery query;
    try {
      query = PageQuery.from(params);
    } catch (RuntimeException e) {
      ctx.fail(e);
      return;
    }
    flow(ctx).storeRequest(Bus.PAGES_FIND, query.toJson()).onSuccess(ctx::json).onFailure(ctx::fail);
  }

  private void search(RoutingContext ctx) {
    JsonObject params = new JsonObject();
    for (String name : new String[] {"q", "host", "jobId", "limit", "after"}) {
      String value = ctx.queryParams().get(name);
      if (value != null) {
        params.put(name, value);
      }
    }
    SearchRequest search;
    try {
      search = SearchRequest.from(params);
    } catch (RuntimeException e) {
      ctx.fail(e);
      return;
    }
    flow(ctx).storeRequest(Bus.PAGES_SEARCH, search.toJson()).onSuccess(ctx::json).onFailure(ctx::fail);
  }

  private void cacheStats(RoutingContext ctx) {
    vertx.eventBus().<JsonObject>request(Bus.FETCH_CACHE_STATS, new JsonObject())
        .onSuccess(m -> ctx.json(m.body()))
        .onFailure(ctx::fail);
  }

  private static JsonObject jsonBody(RoutingContext ctx) {
    Buffer body = ctx.body().buffer();
    if (body == null || body.length() == 0) {
      throw Failure.INVALID.exception("body: a JSON object is required");
    }
    Object parsed;
    try {
      parsed = body.toJsonValue();
    } catch (DecodeException e) {
      throw Failure.INVALID.exception("body: is not valid JSON");
    }
    if (!(parsed instanceof JsonObject json)) {
      throw Failure.INVALID.exception("body: must be a JSON object");
    }
    return json;
  }
}
