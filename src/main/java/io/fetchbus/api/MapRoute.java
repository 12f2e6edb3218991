package io.fetchbus.api;

import io.fetchbus.api.http.RequestLog;
import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.Fields;
import io.fetchbus.bus.MemberRouter;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.openapi.router.RouterBuilder;

/**
 * {@code POST /v1/map}: the URLs of a site, over {@link Bus#SITE_MAP}. It is also Firecrawl's v1 map, at the same
 * path: it takes Firecrawl's v1 fields too ({@code ignoreSitemap}, {@code sitemapOnly}, {@code timeout} in ms; the
 * SDK's {@code origin}, {@code integration} and {@code useIndex} are ignored) and answers
 * {@code {"success": true, "links": [url]}}, which is both this API's answer and the one Firecrawl's v1 SDK reads.
 */
final class MapRoute {
  private final Vertx vertx;
  private final long fetchTimeoutMs;

  MapRoute(Vertx vertx, long fetchTimeoutMs) {
    this.vertx = vertx;
    this.fetchTimeoutMs = fetchTimeoutMs;
  }

  void mount(RouterBuilder builder) {
    ApiVerticle.on(builder, "mapSite", this::map);
  }

  private void map(RoutingContext ctx) {
    JsonObject req;
    try {
      req = request(PageRoutes.jsonBody(ctx));
    } catch (RuntimeException e) {
      ctx.fail(e);
      return;
    }
    // The mapper answers by its deadline (at most fetch.timeoutMs): the margin lets its answer arrive first.
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(fetchTimeoutMs + 5_000)
        .addHeader(Bus.REQUEST_ID, ctx.get(RequestLog.REQUEST_ID));
    MemberRouter.<JsonObject>request(vertx, Bus.SITE_MAP, req, delivery)
        .onSuccess(m -> ctx.json(new JsonObject().put("success", true).put("links", m.body().getJsonArray("links"))))
        .onFailure(ctx::fail);
  }

  /** The bus request for a REST body, Firecrawl's v1 fields translated. */
  static JsonObject request(JsonObject body) {
    JsonObject req = new JsonObject().put("url", body.getValue("url"));
    for (String field : new String[] {"search", "limit", "includeSubdomains", "ignoreQueryParameters", "sitemap"}) {
      if (body.containsKey(field)) {
        req.put(field, body.getValue(field));
      }
    }
    boolean ignoreSitemap = Fields.bool(body, "ignoreSitemap", false);
    boolean sitemapOnly = Fields.bool(body, "sitemapOnly", false);
    if ((ignoreSitemap || sitemapOnly) && (body.containsKey("sitemap") || ignoreSitemap && sitemapOnly)) {
      throw Failure.INVALID.exception("sitemap: say it once, with sitemap, ignoreSitemap or sitemapOnly");
    }
    if (ignoreSitemap) {
      req.put("sitemap", "skip");
    } else if (sitemapOnly) {
      req.put("sitemap", "only");
    }
    Long timeout = Fields.wholeNumber(body, "timeout", 1, 3_600_000);
    if (timeout != null) {
      req.put("timeoutMs", timeout);
    }
    return req;
  }
}
