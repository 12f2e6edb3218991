package io.fetchbus.firecrawl;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FailureReplies;
import io.fetchbus.bus.Fields;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.config.Settings;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Firecrawl's API, v1 and v2, translated to Fetchbus: a scrape is what {@code POST /v1/fetch} does (the same flow,
 * cache and store, handed in by the {@link Api}), a map is {@link Bus#SITE_MAP}, a crawl or batch scrape is a
 * Fetchbus crawl or batch job ({@link JobRoutes}). Firecrawl's v1 map is Fetchbus's own {@code POST /v1/map}. These
 * routes are described by {@code firecrawl-openapi.yaml}, not by the contract; they sit on the API's router behind
 * the same root handlers (API keys, admission, body limit). Their errors are Firecrawl's
 * {@code {"success": false, "error"}}, not problem+json.
 */
public final class FirecrawlRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(FirecrawlRoutes.class);
  private static final Set<String> MAP_FIELDS = Set.of("url", "search", "sitemap", "includeSubdomains",
      "ignoreQueryParameters", "limit", "timeout", "origin", "integration", "location");

  /** What these routes take from the API they are mounted on. */
  public interface Api {
    /** What {@code POST /v1/fetch} answers (the page record with its formats) for a body of that operation. */
    Future<JsonObject> fetch(RoutingContext ctx, JsonObject fetchBody);

    /** The name of the API key the request came with, null without keys: a job's quota and idempotency keys are per key. */
    String keyName(RoutingContext ctx);

    /** The request's id, which its bus requests carry for the logs. */
    String requestId(RoutingContext ctx);

    /**
     * What gives the request's admission slot back (once): a WebSocket's upgraded response never ends, so its
     * handler runs this when the socket closes.
     */
    Runnable release(RoutingContext ctx);
  }

  private final Vertx vertx;
  private final Api api;
  private final long fetchTimeoutMs;
  private final JobRoutes jobs;

  /** {@code config} is the node's: fetch.timeoutMs, pg.requestTimeoutMs, crawl.maxLimit and retention.pagesDays. */
  public FirecrawlRoutes(Vertx vertx, Api api, JsonObject config) {
    this.vertx = vertx;
    this.api = api;
    this.fetchTimeoutMs = Settings.fetchTimeoutMs(config);
    int maxLimit = Settings.number(config, "crawl", "maxLimit").intValue();
    int pagesDays = Settings.number(config, "retention", "pagesDays").intValue();
    this.jobs = new JobRoutes(vertx, api, Settings.storeTimeoutMs(config), maxLimit, pagesDays > 0 ? pagesDays : null);
  }

  /** Adds the routes, and a failure handler for them that runs before the router's problem+json one. */
  public void mount(Router router) {
    router.route("/v2/*").order(-1).failureHandler(this::fail);
    for (String v1 : new String[] {"/v1/scrape", "/v1/crawl", "/v1/crawl/*", "/v1/batch/*"}) {
      router.route(v1).order(-1).failureHandler(this::fail);
    }
    router.post("/v1/scrape").handler(this::scrape);
    router.post("/v2/scrape").handler(this::scrape);
    router.post("/v2/map").handler(this::map);
    jobs.mount(router);
    for (String rest : new String[] {"/v2/*", "/v1/crawl", "/v1/crawl/*", "/v1/batch/*"}) {
      router.route(rest).handler(ctx -> ctx.fail(new HttpException(404, "Fetchbus does not serve "
          + ctx.request().method() + " " + ctx.request().path() + " of Firecrawl's API (see docs/firecrawl.md)")));
    }
  }

  private void scrape(RoutingContext ctx) {
    ScrapeRequest req;
    try {
      req = ScrapeRequest.from(body(ctx));
    } catch (RuntimeException e) {
      ctx.fail(e);
      return;
    }
    api.fetch(ctx, req.fetchBody())
        .onSuccess(page -> ctx.json(new JsonObject().put("success", true).put("data", ScrapeAnswer.document(req, page))))
        .onFailure(ctx::fail);
  }

  private void map(RoutingContext ctx) {
    JsonObject req;
    try {
      JsonObject body = body(ctx);
      Set<String> unknown = new TreeSet<>(body.fieldNames());
      unknown.removeAll(MAP_FIELDS);
      if (!unknown.isEmpty()) {
        throw Failure.INVALID.exception(String.join(", ", unknown) + ": not a map option Fetchbus knows");
      }
      if (body.getValue("location") != null) {
        throw Failure.INVALID.exception("location: Fetchbus fetches from where it runs; it has no proxies by country");
      }
      req = new JsonObject();
      for (String field : new String[] {"url", "search", "limit", "includeSubdomains", "ignoreQueryParameters",
          "sitemap"}) {
        if (body.containsKey(field)) {
          req.put(field, body.getValue(field));
        }
      }
      Long timeout = Fields.wholeNumber(body, "timeout", 1, 3_600_000);
      if (timeout != null) {
        req.put("timeoutMs", timeout);
      }
    } catch (RuntimeException e) {
      ctx.fail(e);
      return;
    }
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(fetchTimeoutMs + 5_000);
    MemberRouter.<JsonObject>request(vertx, Bus.SITE_MAP, req, delivery)
        .onSuccess(m -> {
          JsonArray links = new JsonArray();
          m.body().getJsonArray("links").forEach(url -> links.add(new JsonObject().put("url", url)));
          ctx.json(new JsonObject().put("success", true).put("links", links));
        })
        .onFailure(ctx::fail);
  }

  static JsonObject body(RoutingContext ctx) {
    Buffer body = ctx.body().buffer();
    if (body == null || body.length() == 0) {
      throw Failure.INVALID.exception("body: a JSON object is required");
    }
    try {
      if (body.toJsonValue() instanceof JsonObject json) {
        return json;
      }
    } catch (DecodeException e) {
      throw Failure.INVALID.exception("body: is not valid JSON");
    }
    throw Failure.INVALID.exception("body: must be a JSON object");
  }

  /** Firecrawl's error shape, with the status Fetchbus's own API would answer. */
  private void fail(RoutingContext ctx) {
    Throwable err = ctx.failure();
    int status = status(err, ctx.statusCode());
    String message;
    if (err instanceof HttpException he) {
      message = he.getPayload() != null ? he.getPayload() : HttpResponseStatus.valueOf(status).reasonPhrase();
    } else if (err instanceof ReplyException || err != null && err.getCause() instanceof ReplyException) {
      message = err.getMessage();
    } else {
      message = HttpResponseStatus.valueOf(status).reasonPhrase();
    }
    // Our own 5xx (an overload refusal, a deadline) are the API's to count; only an internal error is logged here.
    if (status == 500) {
      LOG.error("{} {} failed with {}", ctx.request().method(), ctx.request().path(), status, err);
    } else {
      LOG.debug("{} {} refused with {}: {}", ctx.request().method(), ctx.request().path(), status, message);
    }
    if (ctx.response().headWritten()) {
      ctx.response().reset();
      return;
    }
    if ((status == 503 || status == 429) && !ctx.response().headers().contains("Retry-After")) {
      ctx.response().putHeader("Retry-After", "5"); // as the API's problems say, unless the refusal knows better
    }
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("success", false).put("error", message).encode());
  }

  private static int status(Throwable err, int ctxStatus) {
    if (err instanceof HttpException he) {
      return he.getStatusCode();
    }
    if (err instanceof ReplyException) {
      return FailureReplies.status(err);
    }
    if (err != null && err.getCause() instanceof ReplyException cause) {
      return FailureReplies.status(cause);
    }
    return ctxStatus > 0 ? ctxStatus : 500;
  }
}
