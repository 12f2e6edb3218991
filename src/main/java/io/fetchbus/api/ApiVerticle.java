package io.fetchbus.api;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FetchRequest;
import io.fetchbus.bus.Formats;
import io.fetchbus.bus.PageQuery;
import io.fetchbus.bus.SearchRequest;
import io.fetchbus.ops.Metrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.openapi.router.OpenAPIRoute;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.openapi.contract.Operation;
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
  /** This node's API facts, in its local shared map {@link #API}: {@link #ROUTES}, the routes it serves. */
  static final String API = "fetchbus.api";
  static final String ROUTES = "routes";

  private FetchFlow flow;
  private HttpServer server;

  @Override
  public Future<?> start() {
    JsonObject http = config().getJsonObject("http", new JsonObject());
    int maxRequestBytes = http.getInteger("maxRequestBytes", 65536);
    long fetchTimeoutMs = config().getJsonObject("fetch", new JsonObject()).getLong("timeoutMs", 30_000L);
    flow = new FetchFlow(vertx.eventBus(), context, PageSaves.shared(vertx), fetchTimeoutMs,
        config().getJsonObject("pg", new JsonObject()).getLong("requestTimeoutMs", 10_000L));

    JsonObject auth = config().getJsonObject("auth", new JsonObject());
    return loadKeys(auth).compose(keys -> Contract.load(vertx).compose(contract -> listen(http, maxRequestBytes,
        fetchTimeoutMs, contract, auth.getBoolean("disabled", false) ? ApiKeys.of(new JsonArray()) : keys)));
  }

  /** The keys of {@code auth.keys} and of the file {@code auth.keysFile} (one {@code name:secret} per line). */
  private Future<ApiKeys> loadKeys(JsonObject auth) {
    JsonArray keys = auth.getJsonArray("keys", new JsonArray()).copy();
    String file = auth.getString("keysFile", "");
    if (file.isBlank()) {
      return Future.succeededFuture(ApiKeys.of(keys));
    }
    return vertx.fileSystem().readFile(file).map(content -> {
      content.toString().lines().forEach(keys::add);
      return ApiKeys.of(keys);
    });
  }

  private Future<HttpServer> listen(JsonObject http, int maxRequestBytes, long fetchTimeoutMs, Contract contract,
                                    ApiKeys keys) {
    Router router;
    try {
      router = router(contract, maxRequestBytes, fetchTimeoutMs, keys);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    server = vertx.createHttpServer(new HttpServerOptions()
        .setHost(http.getString("host", "127.0.0.1"))
        .setPort(http.getInteger("port", 8080))
        .setIdleTimeout(60)
        .setMaxInitialLineLength(8192)
        .setMaxHeaderSize(16384));
    return server.requestHandler(router).listen()
        .onSuccess(s -> vertx.sharedData().getLocalMap(Bus.NODE_INFO).put(Bus.NODE_HTTP_PORT, s.actualPort()));
  }

  /**
   * The router is built from the contract: one route per operation, in the document's order, each validating the
   * request against the document before its handler runs. The handlers every request passes first (request id
   * and log, deadline, API key, admission, body limit) are the builder's root handlers, in that order, so a body
   * over the limit is a 413 and a request without a key a 401 before anything is validated.
   */
  private Router router(Contract contract, int maxRequestBytes, long fetchTimeoutMs, ApiKeys keys) {
    RouterBuilder builder = RouterBuilder.create(vertx, contract.openapi(), new ContractRequests());
    builder.rootHandler(new RequestLog());
    // A client may not hold a request open for ever: past the fetch deadline plus a margin it gets a 503.
    // Event streams are meant to stay open: they end with their job, or when the client leaves.
    TimeoutHandler timeout = TimeoutHandler.create(fetchTimeoutMs + 15_000);
    builder.rootHandler(ctx -> {
      if (EVENT_STREAM.matcher(ctx.normalizedPath()).matches()) {
        ctx.next();
      } else {
        timeout.handle(ctx);
      }
    });
    if (!keys.isEmpty()) {
      builder.rootHandler(underV1(keys)); // the probes, /metrics and /openapi.yaml stay open
    }
    builder.rootHandler(underV1(Admission.shared(vertx, config().getJsonObject("limits", new JsonObject()))));
    // The root handlers share one route, where vertx-web wants a body handler before any other: called from a
    // plain handler, it still reads (and bounds) every body before validation.
    BodyHandler body = BodyHandler.create(false).setBodyLimit(maxRequestBytes);
    builder.rootHandler(body::handle);

    on(builder, "fetch", this::fetch);
    on(builder, "listPages", this::listPages);
    on(builder, "searchPages", this::search);
    on(builder, "getPage", this::getPage);
    on(builder, "getPageContent", this::getContent);
    on(builder, "cacheStats", this::cacheStats);
    new CrawlRoutes(vertx, config().getJsonObject("pg", new JsonObject()).getLong("requestTimeoutMs", 10_000L),
        ApiVerticle::jsonBody).mount(builder);
    on(builder, "health", HealthCheckHandler.createWithHealthChecks(
        HealthChecks.create(vertx).register("process", promise -> promise.complete(Status.OK()))));
    on(builder, "ready", HealthCheckHandler.createWithHealthChecks(readiness()));
    metrics(builder);
    on(builder, "openapi", ctx -> ctx.response().putHeader("Content-Type", "application/yaml; charset=utf-8")
        .end(contract.document()));

    for (OpenAPIRoute route : builder.getRoutes()) {
      Operation op = route.getOperation();
      if (route.getHandlers().isEmpty()) {
        throw new IllegalStateException("operation " + op.getOperationId() + " of " + Contract.RESOURCE
            + " has no handler");
      }
      // Keys are checked by the root handlers above (and /metrics by its own): the document describes them.
      route.setDoSecurity(false);
      // Validation runs on a worker thread; spare the round trip when there is nothing to validate.
      route.setDoValidation(!op.getParameters().isEmpty() || op.getRequestBody() != null);
    }
    Router router = builder.createRouter();
    Problems problems = new Problems(maxRequestBytes, new Violations(contract.json()));
    router.route().failureHandler(problems::handle);
    router.errorHandler(404, problems::handle);
    router.errorHandler(405, problems::handle);
    vertx.sharedData().getLocalMap(API).put(ROUTES, served(router));
    return router;
  }

  private static void on(RouterBuilder builder, String operationId, Handler<RoutingContext> handler) {
    OpenAPIRoute route = builder.getRoute(operationId);
    if (route == null) {
      throw new IllegalStateException("operation " + operationId + " is not in " + Contract.RESOURCE);
    }
    route.addHandler(handler);
  }

  /** {@code handler} for the requests under {@code /v1}; the others go on. */
  private static Handler<RoutingContext> underV1(Handler<RoutingContext> handler) {
    return ctx -> {
      String path = ctx.normalizedPath();
      if (path.equals("/v1") || path.startsWith("/v1/")) {
        handler.handle(ctx);
      } else {
        ctx.next();
      }
    };
  }

  /** {@code "GET /v1/pages/:id"} for every route that serves an operation: what this node answers, for tests and tools. */
  private static JsonArray served(Router router) {
    JsonArray out = new JsonArray();
    router.getRoutes().stream()
        .filter(r -> r.getPath() != null && r.methods() != null && !r.methods().isEmpty())
        .forEach(r -> r.methods().forEach(m -> out.add(m.name() + " " + r.getPath())));
    return out;
  }

  /**
   * {@code GET /metrics} in Prometheus format, outside {@code /v1} like the probes; {@code metrics.key} guards it.
   * Without metrics it answers 404, as a path that is not served does.
   */
  private void metrics(RouterBuilder builder) {
    JsonObject metrics = config().getJsonObject("metrics", new JsonObject());
    Optional<PrometheusMeterRegistry> registry =
        metrics.getBoolean("enabled", true) ? Metrics.prometheus(vertx) : Optional.empty();
    if (registry.isEmpty()) {
      if (metrics.getBoolean("enabled", true)) {
        LOG.warn("metrics.enabled is true, but this Vert.x instance was built without metrics: /metrics is not served");
      }
      on(builder, "metrics", ctx -> ctx.fail(404));
      return;
    }
    String key = metrics.getString("key", "");
    if (!key.isBlank()) {
      on(builder, "metrics", ApiKeys.of(List.of("metrics:" + key)));
    }
    on(builder, "metrics", PrometheusScrapingHandler.create(registry.get()));
  }

  private FetchFlow flow(RoutingContext ctx) {
    return flow.forRequest(ctx.get(RequestLog.REQUEST_ID));
  }

  /** Ready when every verticle of this node is deployed and the store can reach PostgreSQL. */
  private HealthChecks readiness() {
    return HealthChecks.create(vertx)
        .register("deployed", promise -> promise.complete(
            Boolean.TRUE.equals(vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_DEPLOYED)) ? Status.OK() : Status.KO()))
        .register("store", 3_000, promise -> vertx.eventBus().request(Bus.STORE_PING, new JsonObject(),
                new DeliveryOptions().setSendTimeout(2_500))
            .onComplete(ar -> promise.complete(ar.succeeded() ? Status.OK()
                : Status.KO(new JsonObject().put("detail", ar.cause().getMessage())))));
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
