package io.fetchbus.crawl;

import io.fetchbus.bus.CrawlJob;
import io.fetchbus.bus.Formats;
import io.vertx.core.json.JsonObject;
import java.util.Set;

/**
 * What the crawl loop needs to know about a job to work on its entries, read once from its stored spec. With
 * {@code sitemapOnly} the job fetches the URLs of the site's sitemaps and follows no links. {@code formats} are
 * the job's, which decide what its pages are stored with ({@link Formats#toStore}).
 */
record JobPlan(int maxDepth, boolean obeyRobots, CrawlScope scope, boolean sitemapOnly, Set<String> formats) {
  static JobPlan of(CrawlJob job) {
    JsonObject spec = job.spec();
    Set<String> formats = Formats.from(spec);
    if ("crawl".equals(job.kind())) {
      CrawlSpec crawl = CrawlSpec.from(spec);
      return new JobPlan(crawl.maxDepth(), crawl.obeyRobots(), new CrawlScope(crawl), "only".equals(crawl.sitemap()),
          formats);
    }
    return new JobPlan(0, spec.getBoolean("obeyRobots", true), null, false, formats);
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
