package io.fetchbus.crawl;

import io.fetchbus.bus.CrawlJob;
import io.vertx.core.json.JsonObject;

/** What the crawl loop needs to know about a job to work on its entries, read once from its stored spec. */
record JobPlan(int maxDepth, boolean obeyRobots, CrawlScope scope) {
  static JobPlan of(CrawlJob job) {
    JsonObject spec = job.spec();
    if ("crawl".equals(job.kind())) {
      CrawlSpec crawl = CrawlSpec.from(spec);
      return new JobPlan(crawl.maxDepth(), crawl.obeyRobots(), new CrawlScope(crawl));
    }
    return new JobPlan(0, spec.getBoolean("obeyRobots", true), null);
  }
}
