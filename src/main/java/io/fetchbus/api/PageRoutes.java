package io.fetchbus.api;

import io.fetchbus.api.http.RequestLog;
import io.fetchbus.api.contract.ContractRequests;
import io.fetchbus.bus.Bus;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FetchRequest;
import io.fetchbus.bus.ContentFormats;
import io.fetchbus.bus.Page;
import io.fetchbus.bus.PageQuery;
import io.fetchbus.bus.SearchRequest;
import io.fetchbus.serve.FetchFlow;
import io.fetchbus.serve.PageRecords;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The page operations: {@code POST /v1/fetch}, the stored pages and their content, search, and the fetch cache.
 * Each is a composition of bus requests; the contract has validated the request before, and the handlers check
 * again what a schema cannot say.
 */
final class PageRoutes {
  /** A page id as the store takes it: a positive whole number of at most 18 digits. */
  private static final Pattern ID = Pattern.compile("[1-9][0-9]{0,17}");
  private final Vertx vertx;
  private final FetchFlow flow;
  private final PageRecords records;
  /** {@code fetch.defaultMaxAgeSeconds}: the maxAgeSeconds of a POST /v1/fetch that has none, or null. */
  private final Long defaultMaxAgeSeconds;
  private final PageExport export;

  PageRoutes(Vertx vertx, FetchFlow flow, PageRecords records, Long defaultMaxAgeSeconds, PageExport export) {
    this.vertx = vertx;
    this.flow = flow;
    this.records = records;
    this.defaultMaxAgeSeconds = defaultMaxAgeSeconds;
    this.export = export;
  }

  /** Attaches the handlers of the page operations of the contract. */
  void mount(RouterBuilder builder) {
    ApiVerticle.on(builder, "fetch", this::fetch);
    ApiVerticle.on(builder, "listPages", this::listPages);
    ApiVerticle.on(builder, "exportPages", export::listing);
    ApiVerticle.on(builder, "searchPages", this::search);
    ApiVerticle.on(builder, "getPage", this::getPage);
    ApiVerticle.on(builder, "getPageContent", this::getContent);
    ApiVerticle.on(builder, "deletePage", this::deletePage);
    ApiVerticle.on(builder, "cacheStats", this::cacheStats);
  }

  private FetchFlow flow(RoutingContext ctx) {
    return flow.forRequest(ctx.get(RequestLog.REQUEST_ID));
  }

  private void fetch(RoutingContext ctx) {
    FetchRequest req;
    Set<String> formats;
    try {
      JsonObject body = jsonBody(ctx);
      // onlyIfCached and validators are for bus clients; over REST, maxAgeSeconds says how old a copy may be.
      req = FetchRequest.from(body).withoutBusOptions().withDefaultMaxAge(defaultMaxAgeSeconds);
      formats = ContentFormats.from(body);
    } catch (RuntimeException e) {
      ctx.fail(e);
      return;
    }
    if (req.maxAgeSeconds() != null && formats.equals(ContentFormats.DEFAULT)) {
      // A hot record answers as it was encoded for the first hit: no bus hop, no query, no encoding.
      Buffer hot = records.freshJson(req);
      if (hot != null) {
        ctx.response().putHeader("Content-Type", "application/json").end(hot);
        return;
      }
    }
    flow(ctx).serve(req, formats)
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

  /**
   * What {@code POST /v1/fetch} answers for {@code body} (a fetch request of this API), without its status: the
   * Firecrawl routes scrape with it, so that they fetch, cache and store as this API does.
   */
  Future<JsonObject> fetchPage(RoutingContext ctx, JsonObject body) {
    FetchRequest req;
    Set<String> formats;
    try {
      req = FetchRequest.from(body).withoutBusOptions().withDefaultMaxAge(defaultMaxAgeSeconds);
      formats = ContentFormats.from(body);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return flow(ctx).serve(req, formats).compose(served -> withFormats(ctx, served.page().toJson(), formats));
  }

  /** The page record with the formats asked beyond metadata, read from the store (they were extracted when stored). */
  private Future<JsonObject> withFormats(RoutingContext ctx, JsonObject page, Set<String> formats) {
    if (formats.equals(ContentFormats.DEFAULT)) {
      return Future.succeededFuture(page);
    }
    return flow(ctx).storeRequest(Bus.PAGES_GET, new JsonObject().put("id", page.getLong("id"))
            .put("formats", new JsonArray(List.copyOf(formats))))
        .map(full -> full.put("fromCache", page.getBoolean("fromCache")));
  }

  /** The record alone comes from this node's hot records when it holds it; formats always from the store. */
  private void getPage(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    JsonObject req = new JsonObject().put("id", id);
    if (ctx.queryParams().get("formats") != null) {
      req.put("formats", ctx.queryParams().get("formats"));
    } else if (ID.matcher(id).matches()) {
      Buffer hot = records.byId(Long.parseLong(id));
      if (hot != null) {
        ctx.response().putHeader("Content-Type", "application/json").end(hot);
        return;
      }
      // The same bytes as a read the records answer: encoded once, kept and sent.
      flow(ctx).storeRequest(Bus.PAGES_GET, req)
          .map(json -> records.remember(Page.from(json)))
          .onSuccess(bytes -> ctx.response().putHeader("Content-Type", "application/json").end(bytes))
          .onFailure(ctx::fail);
      return;
    }
    flow(ctx).storeRequest(Bus.PAGES_GET, req)
        .onSuccess(ctx::json)
        .onFailure(ctx::fail);
  }

  /** 204 once the page (and its body, unless another page uses it) is gone, from the store and every node's caches. */
  private void deletePage(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    flow(ctx).storeRequest(Bus.PAGES_DELETE, new JsonObject().put("ids", new JsonArray().add(id)))
        .onSuccess(json -> {
          if (json.getInteger("deleted") == 0) {
            ctx.fail(Failure.NOT_FOUND.exception("there is no page " + id));
          } else {
            ctx.response().setStatusCode(204).end();
          }
        })
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
    PageQuery query = pageQuery(ctx, new JsonObject(), "url", "host", "jobId", "limit", "after", "latest", "formats");
    if (query != null) {
      flow(ctx).storeRequest(Bus.PAGES_FIND, query.toJson()).onSuccess(ctx::json).onFailure(ctx::fail);
    }
  }

  /**
   * The page query that the query parameters {@code names} make on top of {@code base}; null once the request was
   * answered with the 400 that a value the bus record refuses gets.
   */
  static PageQuery pageQuery(RoutingContext ctx, JsonObject base, String... names) {
    for (String name : names) {
      String value = ctx.queryParams().get(name);
      if (value != null) {
        base.put(name, queryValue(name, value));
      }
    }
    try {
      return PageQuery.from(base);
    } catch (RuntimeException e) {
      ctx.fail(e);
      return null;
    }
  }

  private void search(RoutingContext ctx) {
    JsonObject params = new JsonObject();
    for (String name : new String[] {"q", "host", "jobId", "limit", "after", "latest"}) {
      String value = ctx.queryParams().get(name);
      if (value != null) {
        params.put(name, queryValue(name, value));
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

  /** A query parameter as the bus contract takes it: {@code latest} is a boolean there, the rest strings or numbers. */
  private static Object queryValue(String name, String value) {
    if (!name.equals("latest")) {
      return value;
    }
    return switch (value) {
      case "true" -> Boolean.TRUE;
      case "false" -> Boolean.FALSE;
      default -> value; // refused by the contract first, and by the bus record's check after it
    };
  }

  /** The fetch cache's figures, with the hits this node answered from its hot page records counted in. */
  private void cacheStats(RoutingContext ctx) {
    MemberRouter.<JsonObject>request(vertx, Bus.FETCH_CACHE_STATS, new JsonObject(), new DeliveryOptions())
        .onSuccess(m -> ctx.json(m.body().copy()
            .put("hits", m.body().getLong("hits", 0L) + records.hits())
            .put("records", records.entries())))
        .onFailure(ctx::fail);
  }

  static JsonObject jsonBody(RoutingContext ctx) {
    JsonObject decoded = ctx.get(ContractRequests.DECODED_BODY);
    if (decoded != null) {
      return decoded;
    }
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
