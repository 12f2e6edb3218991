package io.fetchbus.crawl;

import io.fetchbus.bus.WebUrl;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The links a job follows from one page (or from its sitemaps), once each, in their order, at most {@code max};
 * and those its patterns could not decide about within the page's {@link RegexBudget}, which the store records as
 * the job's errors rather than drop unsaid. Matching is CPU work bounded by the budget: run it on a worker.
 */
record LinkSelection(JsonArray followed, JsonArray undecided) {

  static LinkSelection of(CrawlScope scope, List<String> urls, int max) {
    JsonArray followed = new JsonArray();
    JsonArray undecided = new JsonArray();
    Set<String> seen = new HashSet<>();
    RegexBudget budget = RegexBudget.forLinks(Math.min(urls.size(), max));
    for (int i = 0; i < urls.size() && followed.size() < max && undecided.size() < max; i++) {
      CrawlScope.Judged judged = scope.judge(urls.get(i), budget);
      if (judged.decision() != CrawlScope.Decision.SKIP && seen.add(judged.url().key())) {
        (judged.decision() == CrawlScope.Decision.FOLLOW ? followed : undecided).add(entry(judged.url()));
      }
    }
    return new LinkSelection(followed, undecided);
  }

  /** A link as the frontier takes it. */
  static JsonObject entry(WebUrl url) {
    return new JsonObject().put("url", url.toString()).put("key", url.key()).put("host", url.host());
  }
}
