package io.fetchbus.crawl;

import io.fetchbus.bus.CrawlJob;
import io.fetchbus.bus.ContentFormats;
import io.vertx.core.json.JsonObject;
import java.util.Set;

/**
 * What the crawl loop needs to know about a job to work on its entries, read once from its stored spec. With
 * {@code sitemapOnly} the job fetches the URLs of the site's sitemaps and follows no links. {@code formats} are
 * the job's, which decide what its pages are stored with ({@link ContentFormats#toStore}). {@code maxAgeSeconds}, when
 * set, goes with each of its fetches: a copy in the fetch cache at most that old answers.
 */
record JobPlan(int maxDepth, boolean obeyRobots, CrawlScope scope, boolean sitemapOnly, Set<String> formats,
               Long maxAgeSeconds) {
  static JobPlan of(CrawlJob job) {
    JsonObject spec = job.spec();
    Set<String> formats = ContentFormats.from(spec);
    if ("crawl".equals(job.kind())) {
      CrawlSpec crawl = CrawlSpec.from(spec);
      return new JobPlan(crawl.maxDepth(), crawl.obeyRobots(), new CrawlScope(crawl), "only".equals(crawl.sitemap()),
          formats, crawl.maxAgeSeconds());
    }
    return new JobPlan(0, spec.getBoolean("obeyRobots", true), null, false, formats, spec.getLong("maxAgeSeconds"));
  }

  /**
   * Whether a page at {@code depth} is stored with the links the job follows from it: they are followed now
   * (below maxDepth), or may be once a shorter path to the page turns up. The store decides which, from the
   * entry's depth as it is then. No page is found shallower than depth 1, so with a maxDepth of 0 or 1 only the
   * pages below it need theirs.
   */
  boolean sendsLinksAt(int depth) {
    return scope != null && !sitemapOnly && (depth < maxDepth || maxDepth > 1);
  }

  /** Whether the URLs of the sitemaps (depth 1) are crawled. */
  boolean takesSitemapUrls() {
    return scope != null && (sitemapOnly || maxDepth >= 1);
  }
}
