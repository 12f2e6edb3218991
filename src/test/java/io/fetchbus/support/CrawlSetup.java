package io.fetchbus.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/** The setup the crawl tests share: quick settings, and a crawl of a {@link TestSite} that follows links only. */
public final class CrawlSetup {
  private CrawlSetup() {}

  /** A test site and the service that crawls it. */
  public record Started(TestSite site, ServiceUnderTest fb) {}

  /** A {@link TestSite} of {@code pages} pages, then the service with {@link #config()} and empty tables. */
  public static Future<Started> start(Vertx vertx, int pages) {
    return TestSite.start(vertx, pages)
        .compose(site -> ServiceUnderTest.fresh(vertx, config()).map(fb -> new Started(site, fb)));
  }

  /** Quick retries and polls, so that the tests run in seconds; no fetch-level retries, so attempts are the crawl's. */
  public static JsonObject config() {
    return new JsonObject()
        .put("crawl", new JsonObject().put("pollMs", 50).put("gaugesEveryMs", 100).put("retryBaseMs", 20).put("retryMaxMs", 100)
            .put("maxAttempts", 2).put("maxInFlight", 16).put("perHostInFlight", 4))
        .put("fetch", new JsonObject().put("retry", new JsonObject().put("max", 0)));
  }

  /** A crawl of the site from /p/0 that follows links only (sitemaps are SitemapTest's business). */
  public static JsonObject linksOnly(TestSite site) {
    return new JsonObject().put("url", site.url("/p/0")).put("sitemap", "skip");
  }
}
