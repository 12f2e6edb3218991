package io.fetchbus.api;

import io.fetchbus.api.http.ApiKeys;
import io.fetchbus.api.http.Utf8Bodies;
import io.fetchbus.api.http.RequestLog;
import io.fetchbus.api.http.Admission;
import io.fetchbus.api.contract.Contract;
import io.fetchbus.api.contract.ContractRequests;
import io.fetchbus.api.contract.KnownQueryParameters;
import io.fetchbus.api.contract.ValidatorCache;
import io.fetchbus.api.contract.Violations;
import io.fetchbus.auth.FailedAuthThrottle;
import io.fetchbus.auth.Keys;
import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Extraction;
import io.fetchbus.bus.Page;
import io.fetchbus.firecrawl.FirecrawlRoutes;
import io.fetchbus.serve.FetchFlow;
import io.fetchbus.serve.PageRecords;
import io.fetchbus.serve.PageSaves;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.TimeoutHandler;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.ext.web.openapi.router.OpenAPIRoute;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.validation.impl.RequestValidatorImpl;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The REST API, served as {@code openapi.yaml} describes it: the router is built from that document and validates
 * every request against it. It holds no state: every route is a composition of bus requests.
 */
public final class ApiVerticle extends VerticleBase {
  private static final Pattern EVENT_STREAM = Pattern.compile("/v1/(crawls|batches)/[^/]+/events");
  private static final Pattern EXPORT = Pattern.compile("/v1/((crawls|batches)/[^/]+|pages)/export");
  /** Where Firecrawl's SDKs open their job status WebSocket (io.fetchbus.firecrawl.JobSocket). */
  private static final Pattern JOB_SOCKET = Pattern.compile("/v[12]/(crawl|batch/scrape)/[^/]+");
  /** This node's API facts, in its local shared map {@link #API}: {@link #ROUTES}, the routes it serves. */
  static final String API = "fetchbus.api";
  static final String ROUTES = "routes";

  private ApiSettings settings;
  private FetchFlow flow;
  private PageRecords records;
  private HttpServer server;
  private ClusterView cluster;

  /**
   * Starts loading the REST contract now, so that it is ready when the API's instances deploy: the node's start-up
   * then waits for the slower of the contract and the store's migration, not for both one after the other.
   */
  public static void preload(Vertx vertx, JsonObject config) {
    Contract.shared(vertx);
    // The node's shared state, made here so that no instance waits on a lock while another makes it.
    ApiSettings settings = ApiSettings.from(config);
    PageRecords.shared(vertx, settings.cacheTtlSeconds());
    PageSaves.shared(vertx, settings.cacheTtlSeconds());
    Problems.unavailableLog(vertx);
    Admission.shared(vertx, config);
  }

  @Override
  public Future<?> start() {
    try {
      settings = ApiSettings.from(config());
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    records = PageRecords.shared(vertx, settings.cacheTtlSeconds());
    flow = new FetchFlow(vertx, context, PageSaves.shared(vertx, settings.cacheTtlSeconds()), records,
        Extraction.shared(vertx, config()), settings.fetchTimeoutMs(), settings.storeTimeoutMs());

    cluster = new ClusterView(vertx, config(), settings.nodeTimeoutMs());
    return cluster.start()
        .compose(v -> vertx.eventBus().<JsonObject>consumer(Bus.PAGE_REVALIDATED,
            msg -> records.revalidated(Page.from(msg.body()))).completion())
        .compose(v -> vertx.eventBus().<JsonObject>consumer(Bus.PAGES_DELETED, msg -> {
          for (Object gone : msg.body().getJsonArray("pages", new JsonArray())) {
            if (gone instanceof JsonObject page && page.getValue("id") instanceof Number id) {
              records.deleted(id.longValue(), page.getString("url"));
              PageSaves.shared(vertx, settings.cacheTtlSeconds()).forget(page.getString("fetchId"));
            }
          }
        }).completion())
        .compose(v -> Keys.load(vertx, config())).compose(keys -> Contract.shared(vertx)
        .compose(contract -> listen(contract,
            ApiKeys.of(keys, authThrottle()))));
  }

  /** One per Vert.x instance: the API's instances (one per event loop) and the bridge share each address's budget. */
  private FailedAuthThrottle authThrottle() {
    return FailedAuthThrottle.shared(vertx, config());
  }

  private Future<HttpServer> listen(Contract contract, ApiKeys keys) {
    Router router;
    try {
      router = router(contract, keys);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    server = vertx.createHttpServer(new HttpServerOptions()
        .setHost(settings.host())
        .setPort(settings.port())
        .setIdleTimeout(60)
        .setMaxInitialLineLength(8192)
        .setMaxHeaderSize(16384)
        // gzip or deflate when the client's Accept-Encoding allows it (exports, listings with content); answers
        // under 1 KiB are not worth it. A client that does not ask gets them as they are.
        .setCompressionSupported(true)
        .setCompressionLevel(1) // on the event loop: the fastest level, most of the gain on JSON
        .setCompressionContentSizeThreshold(1024)
        // Firecrawl's SDKs send the API key as the WebSocket subprotocol and want it named back: "*" echoes the
        // first one asked, to the client that sent it (ApiKeys checks it as the key).
        .setWebSocketSubProtocols(java.util.List.of("*")));
    return server.requestHandler(router).listen()
        .onSuccess(s -> vertx.sharedData().getLocalMap(Bus.NODE_INFO).put(Bus.NODE_HTTP_PORT, s.actualPort()));
  }

  /**
   * The router is built from the contract: one route per operation, in the document's order, each validating the
   * request against the document before its handler runs. The handlers every request passes first (request id
   * and log, deadline, API key, admission, body limit, UTF-8) are the builder's root handlers, in that order, so a
   * body over the limit is a 413 and a request without a key a 401 before anything is validated.
   */
  private Router router(Contract contract, ApiKeys keys) {
    int maxRequestBytes = settings.maxRequestBytes();
    long fetchTimeoutMs = settings.fetchTimeoutMs();
    RouterBuilder builder = RouterBuilder.create(vertx, contract.openapi());
    builder.rootHandler(new RequestLog());
    // A client may not hold a request open for ever: past the fetch deadline plus a margin it gets a 503.
    // Event streams, exports and WebSockets (Firecrawl's job status) are meant to stay open: they end with their job
    // or their last page, or when the client leaves (an export also waits for its reader, which the deadline must
    // not cut).
    TimeoutHandler timeout = TimeoutHandler.create(fetchTimeoutMs + 15_000);
    builder.rootHandler(ctx -> {
      String path = ctx.normalizedPath();
      // Cheap tests first: every request passes here, and few are streams.
      if (path.endsWith("/events") && EVENT_STREAM.matcher(path).matches()
          || path.endsWith("/export") && EXPORT.matcher(path).matches()
          || "websocket".equalsIgnoreCase(ctx.request().getHeader("Upgrade")) && JOB_SOCKET.matcher(path).matches()) {
        ctx.next();
      } else {
        timeout.handle(ctx);
      }
    });
    if (!keys.isEmpty()) {
      builder.rootHandler(underApi(keys)); // the probes, /metrics and /openapi.yaml stay open
    }
    builder.rootHandler(underApi(Admission.shared(vertx, config())));
    // The root handlers share one route, where vertx-web wants a body handler before any other: called from a
    // plain handler, it still reads (and bounds) every body before validation.
    BodyHandler body = BodyHandler.create(false).setBodyLimit(maxRequestBytes);
    builder.rootHandler(body::handle);
    builder.rootHandler(new Utf8Bodies()); // before anything parses a body

    // Each operation's first handler validates the request (on the event loop: see ContractRequests).
    // The impl class: the public RequestValidator only validates asynchronously, on a worker (no synchronous check).
    ValidatorCache validators = new ValidatorCache(contract.openapi());
    RequestValidatorImpl validator = new RequestValidatorImpl(vertx, validators);
    for (OpenAPIRoute route : builder.getRoutes()) {
      Operation op = route.getOperation();
      route.setDoValidation(false);
      if (op.getOpenAPIPath().startsWith("/v1/")) {
        route.addHandler(KnownQueryParameters.of(op)); // the probes and /metrics take what a prober sends
      }
      if (!op.getParameters().isEmpty() || op.getRequestBody() != null) {
        route.addHandler(new ContractRequests(validator, validators, op));
      }
    }
    long storeTimeoutMs = settings.storeTimeoutMs();
    PageExport export = new PageExport(vertx, new DeliveryOptions().setSendTimeout(storeTimeoutMs));
    PageRoutes pages = new PageRoutes(vertx, flow, records, settings.defaultMaxAgeSeconds(), export);
    pages.mount(builder);
    new CrawlRoutes(vertx, storeTimeoutMs, fetchTimeoutMs, PageRoutes::jsonBody, export).mount(builder);
    new MapRoute(vertx, fetchTimeoutMs).mount(builder);
    // A run fetches its URLs one after the other: up to a minute's worth of fetches, then 504 (the run goes on).
    new WatchRoutes(vertx, storeTimeoutMs, Math.max(60_000, fetchTimeoutMs + storeTimeoutMs), PageRoutes::jsonBody,
        settings.watchStreams()).mount(builder);
    on(builder, "health", HealthCheckHandler.createWithHealthChecks(
        HealthChecks.create(vertx).register("process", promise -> promise.complete(Status.OK()))));
    on(builder, "ready", HealthCheckHandler.createWithHealthChecks(Readiness.of(vertx)));
    on(builder, "cluster", cluster::handle);
    MetricsRoute.mount(vertx, builder, settings.metrics(), keys, authThrottle());
    on(builder, "openapi", ctx -> ctx.response().putHeader("Content-Type", "application/yaml; charset=utf-8")
        .end(contract.document()));

    for (OpenAPIRoute route : builder.getRoutes()) {
      Operation op = route.getOperation();
      boolean checksOnly = route.getHandlers().stream()
          .allMatch(h -> h instanceof ContractRequests || h instanceof KnownQueryParameters);
      if (checksOnly) {
        throw new IllegalStateException("operation " + op.getOperationId() + " of " + Contract.RESOURCE
            + " has no handler");
      }
      // Keys are checked by the root handlers above (and /metrics by its own): the document describes them.
      route.setDoSecurity(false);
    }
    Router router = builder.createRouter();
    Problems problems = new Problems(maxRequestBytes, new Violations(contract.json()), Problems.unavailableLog(vertx));
    router.route().failureHandler(problems::handle);
    router.errorHandler(404, problems::handle);
    router.errorHandler(405, problems::handle);
    // The operations only: the dashboard's routes, mounted after, are not part of the contract.
    vertx.sharedData().getLocalMap(API).put(ROUTES, served(router));
    if (settings.dashboard()) {
      Dashboard.mount(router);
    }
    // Firecrawl's API, described by firecrawl-openapi.yaml: after the list of the contract's routes, which it is not.
    new FirecrawlRoutes(vertx, new FirecrawlRoutes.Api() {
      @Override
      public Future<JsonObject> fetch(RoutingContext ctx, JsonObject fetchBody) {
        return pages.fetchPage(ctx, fetchBody);
      }

      @Override
      public String keyName(RoutingContext ctx) {
        return ctx.get(ApiKeys.KEY_NAME);
      }

      @Override
      public String requestId(RoutingContext ctx) {
        return ctx.get(RequestLog.REQUEST_ID);
      }

      @Override
      public Runnable release(RoutingContext ctx) {
        Runnable release = ctx.get(Admission.RELEASE);
        return release == null ? () -> { } : release;
      }
    }, config()).mount(router);
    return router;
  }

  static void on(RouterBuilder builder, String operationId, Handler<RoutingContext> handler) {
    OpenAPIRoute route = builder.getRoute(operationId);
    if (route == null) {
      throw new IllegalStateException("operation " + operationId + " is not in " + Contract.RESOURCE);
    }
    route.addHandler(handler);
  }

  /** {@code handler} for the requests under {@code /v1} and {@code /v2} (Firecrawl's v2); the others go on. */
  private static Handler<RoutingContext> underApi(Handler<RoutingContext> handler) {
    return ctx -> {
      String path = ctx.normalizedPath();
      if (path.equals("/v1") || path.startsWith("/v1/") || path.equals("/v2") || path.startsWith("/v2/")) {
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
   * Takes no new connection, and lets the requests in progress finish until the node's shutdown deadline (event
   * streams end at once: their clients reconnect to another node); then the connections are closed.
   */
  @Override
  public Future<?> stop() {
    Object deadline = vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_SHUTDOWN_DEADLINE);
    long graceMs = deadline instanceof Long at ? Math.max(0, at - System.currentTimeMillis())
        : settings.graceMs();
    return server == null ? Future.succeededFuture() : server.shutdown(graceMs, TimeUnit.MILLISECONDS);
  }

}
