package io.fetchbus.crawl;

import io.fetchbus.bus.CrawlJob;
import io.vertx.core.json.JsonObject;

/**
 * What the crawl loop needs to know about a job to work on its entries, read once from its stored spec. With
 * {@code sitemapOnly} the job fetches the URLs of the site's sitemaps and follows no links.
 */
record JobPlan(int maxDepth, boolean obeyRobots, CrawlScope scope, boolean sitemapOnly) {
  static JobPlan of(CrawlJob job) {
    JsonObject spec = job.spec();
    if ("crawl".equals(job.kind())) {
      CrawlSpec crawl = CrawlSpec.from(spec);
      return new JobPlan(crawl.maxDepth(), crawl.obeyRobots(), new CrawlScope(crawl), "only".equals(crawl.sitemap()));
    }
    return new JobPlan(0, spec.getBoolean("obeyRobots", true), null, false);
  }

  /** Whether a page at {@code depth} has its links followed. */
  boolean followsLinksAt(int depth) {
    return scope != null && !sitemapOnly && depth < maxDepth;
  }

  /** Whether the URLs of the sitemaps (depth 1) are crawled. */
  boolean takesSitemapUrls() {
    return scope != null && (sitemapOnly || maxDepth >= 1);
  }
}
