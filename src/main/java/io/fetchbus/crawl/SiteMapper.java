package io.fetchbus.crawl;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Extraction;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FailureReplies;
import io.fetchbus.bus.FetchResult;
import io.fetchbus.bus.Fields;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.bus.WebUrl;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Bus#SITE_MAP}: the URLs of a site, found fast and stored nowhere. The page itself is fetched (through the
 * fetch engine: destination guard, robots.txt, politeness) and its links extracted; then its sitemaps are read as a
 * crawl reads them ({@link Sitemaps}). Bounded in time ({@code timeoutMs}: what was found by then answers) and in
 * size ({@code limit}).
 */
final class SiteMapper {
  static final int MAX_LIMIT = 30_000;
  static final int DEFAULT_LIMIT = 5_000;
  private static final Logger LOG = LoggerFactory.getLogger(SiteMapper.class);
  private static final Set<String> FIELDS = Set.of("url", "search", "limit", "includeSubdomains",
      "ignoreQueryParameters", "sitemap", "timeoutMs");

  private final Vertx vertx;
  private final Sitemaps sitemaps;
  private final Extraction extraction;
  private final DeliveryOptions fetchDelivery;
  private final long maxTimeoutMs;

  SiteMapper(Vertx vertx, Sitemaps sitemaps, Extraction extraction, DeliveryOptions fetchDelivery, long maxTimeoutMs) {
    this.vertx = vertx;
    this.sitemaps = sitemaps;
    this.extraction = extraction;
    this.fetchDelivery = fetchDelivery;
    this.maxTimeoutMs = maxTimeoutMs;
  }

  /** What a map request asks, checked. */
  record Spec(WebUrl url, String search, int limit, boolean includeSubdomains, boolean ignoreQuery, String sitemap,
              long timeoutMs) {
    static Spec from(JsonObject json, long maxTimeoutMs) {
      Fields.onlyKnown(json, FIELDS, "map field");
      WebUrl url = WebUrl.parse("url", json.getValue("url"));
      String search = Fields.string(json, "search", 2048);
      Long limit = Fields.wholeNumber(json, "limit", 1, MAX_LIMIT);
      String sitemap = Fields.string(json, "sitemap", 16);
      if (sitemap != null && !List.of("include", "skip", "only").contains(sitemap)) {
        throw Failure.INVALID.exception("sitemap: must be include, skip or only");
      }
      Long timeoutMs = Fields.wholeNumber(json, "timeoutMs", 1, 3_600_000);
      return new Spec(url, search == null || search.isBlank() ? null : search.toLowerCase(Locale.ROOT),
          limit == null ? DEFAULT_LIMIT : limit.intValue(), Fields.bool(json, "includeSubdomains", false),
          Fields.bool(json, "ignoreQueryParameters", true), sitemap == null ? "include" : sitemap,
          timeoutMs == null ? maxTimeoutMs : Math.min(timeoutMs, maxTimeoutMs));
    }
  }

  void map(Message<JsonObject> msg) {
    Spec spec;
    try {
      spec = Spec.from(msg.body(), maxTimeoutMs);
    } catch (RuntimeException e) {
      FailureReplies.reply(msg, e);
      return;
    }
    // Everything found lands here as it is found (on this verticle's event loop): at the deadline it answers as is.
    Set<String> found = new LinkedHashSet<>();
    found.add(spec.url().toString());
    long deadline = System.currentTimeMillis() + spec.timeoutMs();
    Promise<Void> done = Promise.promise();
    long timer = vertx.setTimer(spec.timeoutMs(), t -> done.tryComplete());
    Future<Void> page = spec.sitemap().equals("only") ? Future.succeededFuture() : pageLinks(spec.url(), found);
    page.compose(v -> spec.sitemap().equals("skip") ? Future.succeededFuture()
            : sitemaps.discover(spec.url().siteRoot() + "/robots.txt", true, deadline, Sitemaps.MAX_URLS, found).mapEmpty())
        .onComplete(ar -> {
          if (ar.failed()) {
            done.tryFail(ar.cause());
          } else {
            done.tryComplete();
          }
        });
    done.future()
        .onComplete(ar -> vertx.cancelTimer(timer))
        .onSuccess(v -> msg.reply(new JsonObject().put("links", select(spec, found))))
        .onFailure(err -> FailureReplies.reply(msg, err));
  }

  /**
   * Adds the links of the page itself. A page the destination guard or robots.txt refuses fails the map (nothing
   * of that site is listed); an upstream that fails leaves the sitemaps to answer.
   */
  private Future<Void> pageLinks(WebUrl url, Set<String> found) {
    return MemberRouter.<JsonObject>request(vertx, Bus.FETCH, new JsonObject().put("url", url.toString()), fetchDelivery)
        .map(m -> FetchResult.from(m.body()))
        .compose(result -> {
          found.add(result.finalUrl());
          return result.status() / 100 != 2 ? Future.succeededFuture(new JsonObject())
              : extraction.extract(result.finalUrl(), result.contentType(), result.body(), List.of("links"), null);
        })
        .map(extracted -> {
          JsonArray links = extracted.getJsonArray("links", new JsonArray());
          for (int i = 0; i < links.size(); i++) {
            found.add(links.getJsonObject(i).getString("url"));
          }
          return (Void) null;
        })
        .recover(err -> {
          if (FailureReplies.status(err) == 403) {
            return Future.failedFuture(err);
          }
          LOG.debug("map: {} not fetched, its sitemaps answer alone: {}", url, err.getMessage());
          return Future.succeededFuture();
        });
  }

  /** The URLs found that are on the site, normalised, filtered by {@code search}, each once, at most {@code limit}. */
  static JsonArray select(Spec spec, Set<String> found) {
    String site = bare(spec.url().host());
    Set<String> out = new LinkedHashSet<>();
    for (String raw : found) {
      if (out.size() >= spec.limit()) {
        break;
      }
      URI uri;
      try {
        uri = new URI(raw);
      } catch (URISyntaxException e) {
        continue;
      }
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (uri.getHost() == null || !(scheme.equals("http") || scheme.equals("https"))) {
        continue;
      }
      String host = bare(uri.getHost().toLowerCase(Locale.ROOT));
      if (!host.equals(site) && !(spec.includeSubdomains() && host.endsWith("." + site))) {
        continue;
      }
      // From the raw parts, as escaped as they came; the fragment is never part of a page's URL.
      String url = scheme + "://" + uri.getRawAuthority() + (uri.getRawPath() == null ? "" : uri.getRawPath())
          + (spec.ignoreQuery() || uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
      if (spec.search() == null || url.toLowerCase(Locale.ROOT).contains(spec.search())) {
        out.add(url);
      }
    }
    return new JsonArray(List.copyOf(out));
  }

  /** A host without its {@code www.}: {@code www.example.com} and {@code example.com} are one site. */
  private static String bare(String host) {
    return host.startsWith("www.") ? host.substring(4) : host;
  }
}
