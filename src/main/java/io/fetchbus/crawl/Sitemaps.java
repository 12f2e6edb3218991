package io.fetchbus.crawl;

import crawlercommons.robots.SimpleRobotRulesParser;
import crawlercommons.sitemaps.AbstractSiteMap;
import crawlercommons.sitemaps.SiteMap;
import crawlercommons.sitemaps.SiteMapIndex;
import crawlercommons.sitemaps.SiteMapParser;
import io.fetchbus.bus.Bus;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.bus.FetchResult;
import io.fetchbus.bus.WebUrl;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the URLs a site lists in its sitemaps: those named by robots.txt {@code Sitemap:} lines, and
 * {@code /sitemap.xml}; sitemap indexes are followed. Everything is fetched through the fetch engine (so the
 * destination guard and politeness apply) and parsed by crawler-commons on a worker thread. Bounded: at most
 * {@link #MAX_SITEMAPS} sitemaps and {@link #MAX_URLS} URLs. Best effort: a sitemap that fails is skipped.
 *
 * <p>A job's sitemaps are one frontier entry, keyed {@code sitemaps:<origin>}, so that finding them is leased,
 * retried and survives a crash like any page; it leaves the frontier once its URLs are in it.
 */
final class Sitemaps {
  static final String KEY_PREFIX = "sitemaps:";
  static final int MAX_SITEMAPS = 20;
  static final int MAX_URLS = 50_000;
  private static final Logger LOG = LoggerFactory.getLogger(Sitemaps.class);

  private final Vertx vertx;
  private final DeliveryOptions fetchDelivery;

  Sitemaps(Vertx vertx, DeliveryOptions fetchDelivery) {
    this.vertx = vertx;
    this.fetchDelivery = fetchDelivery;
  }

  /** The frontier entry that stands for the sitemaps of the seed's site: its URL is the site's robots.txt. */
  static JsonObject entry(WebUrl seed) {
    String origin = seed.siteRoot();
    return new JsonObject().put("url", origin + "/robots.txt").put("key", KEY_PREFIX + origin).put("host", seed.host());
  }

  static boolean isEntry(String urlKey) {
    return urlKey.startsWith(KEY_PREFIX);
  }

  /** The URLs listed by the sitemaps of the site whose robots.txt is {@code robotsUrl}, in sitemap order. */
  Future<List<String>> discover(String robotsUrl, boolean obeyRobots) {
    return discover(robotsUrl, obeyRobots, Long.MAX_VALUE, MAX_URLS, new LinkedHashSet<>()).map(List::copyOf);
  }

  /**
   * The same, adding the URLs to {@code urls} as they are found, so that a caller with a deadline can answer with
   * what it has; no sitemap is started after {@code deadlineMs} (epoch ms), or once {@code maxUrls} are found.
   */
  Future<Set<String>> discover(String robotsUrl, boolean obeyRobots, long deadlineMs, int maxUrls, Set<String> urls) {
    String origin = WebUrl.siteRoot(URI.create(robotsUrl));
    return fetch(robotsUrl, false)
        .compose(robots -> robots == null ? Future.succeededFuture(List.<String>of())
            : vertx.executeBlocking(() -> new SimpleRobotRulesParser()
                .parseContent(robotsUrl, robots.body().getBytes(), robots.contentType(), List.of("fetchbus"))
                .getSitemaps(), false))
        .compose(named -> {
          Deque<String> queue = new ArrayDeque<>(named);
          queue.add(origin + "/sitemap.xml");
          return next(queue, new LinkedHashSet<>(), urls, obeyRobots, deadlineMs, Math.min(maxUrls, MAX_URLS));
        });
  }

  /** Fetches and parses the next sitemap of the queue; an index adds its sitemaps to the queue. */
  private Future<Set<String>> next(Deque<String> queue, Set<String> seen, Set<String> urls, boolean obeyRobots,
                                   long deadlineMs, int maxUrls) {
    String sitemap = queue.poll();
    while (sitemap != null && !seen.add(sitemap)) {
      sitemap = queue.poll();
    }
    if (sitemap == null || seen.size() > MAX_SITEMAPS || urls.size() >= maxUrls
        || System.currentTimeMillis() > deadlineMs) {
      return Future.succeededFuture(urls);
    }
    String url = sitemap;
    return fetch(url, obeyRobots)
        .compose(result -> result == null ? Future.succeededFuture((AbstractSiteMap) null)
            : vertx.executeBlocking(() -> new SiteMapParser(false)
                .parseSiteMap(result.contentType(), result.body().getBytes(), URI.create(result.finalUrl()).toURL()), false))
        .otherwise(err -> {
          LOG.debug("sitemap {} skipped: {}", url, err.toString());
          return null;
        })
        .compose(parsed -> {
          if (parsed instanceof SiteMapIndex index) {
            index.getSitemaps().forEach(child -> queue.add(child.getUrl().toString()));
          } else if (parsed instanceof SiteMap map) {
            for (var entry : map.getSiteMapUrls()) {
              if (urls.size() >= maxUrls) {
                break;
              }
              urls.add(entry.getUrl().toString());
            }
          }
          return next(queue, seen, urls, obeyRobots, deadlineMs, maxUrls);
        });
  }

  /** The 2xx response with a body for a URL, or null for anything else (a missing sitemap is common). */
  private Future<FetchResult> fetch(String url, boolean obeyRobots) {
    JsonObject req = new JsonObject().put("url", url).put("obeyRobots", obeyRobots);
    return MemberRouter.<JsonObject>request(vertx, Bus.FETCH, req, fetchDelivery)
        .map(m -> FetchResult.from(m.body()))
        .map(r -> r.status() / 100 == 2 && r.body() != null && r.body().length() > 0 ? r : null)
        .otherwise(err -> {
          LOG.debug("{} not fetched for sitemaps: {}", url, err.getMessage());
          return null;
        });
  }
}
