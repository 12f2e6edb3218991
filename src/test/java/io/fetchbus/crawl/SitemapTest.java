package io.fetchbus.crawl;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.CrawlSetup;
import io.fetchbus.support.JobClient;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestSite;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.net.URI;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The three sitemap modes against a site whose robots.txt names a sitemap index, plus /sitemap.xml. */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class SitemapTest extends TestBase {
  private TestSite site;

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    CrawlSetup.start(vertx, 30)
        .onSuccess(started -> {
          site = started.site();
          fb = started.fb();
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  private Future<JsonObject> crawl(JsonObject spec, List<JsonObject> pagesOut) {
    return JobClient.crawl(fb, spec.put("url", site.url("/p/0")))
        .compose(id -> JobClient.finished(fb, "/v1/crawls/" + id)
            .compose(job -> JobClient.all(fb, "/v1/crawls/" + id + "/pages").map(pages -> {
              pagesOut.addAll(pages);
              return job;
            })));
  }

  private static Set<String> paths(List<JsonObject> pages) {
    return pages.stream().map(p -> URI.create(p.getString("url")).getPath()).collect(Collectors.toSet());
  }

  @Test
  @DisplayName("sitemap include: the links within maxDepth plus the same-host sitemap URLs at depth 1, once each")
  void include(VertxTestContext ctx) {
    List<JsonObject> pages = new java.util.ArrayList<>();
    crawl(new JsonObject().put("maxDepth", 1).put("excludePaths", new io.vertx.core.json.JsonArray().add("^/fail/")), pages)
        .onComplete(ctx.succeeding(job -> ctx.verify(() -> {
          Set<String> expected = new HashSet<>(TestSite.pages(site.reachable(1, l -> !l.startsWith("/fail/"))));
          expected.addAll(TestSite.ORPHANS);
          expected.add("/p/" + (site.size - 1));
          assertThat(job.getString("status")).isEqualTo("completed");
          assertThat(paths(pages)).isEqualTo(expected);
          assertThat(pages).hasSize(expected.size());
          assertThat(job.getInteger("robotsBlocked")).isPositive(); // /private/99 from the sitemap, /private/0 from /p/0
          assertThat(site.hits("/sitemap-index.xml")).isEqualTo(1);
          assertThat(site.hits("/sitemap-orphans.xml")).isEqualTo(1);
          assertThat(site.hits("/sitemap.xml")).isEqualTo(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("sitemap only: just the sitemap URLs, no link followed, and the seed itself not fetched")
  void only(VertxTestContext ctx) {
    List<JsonObject> pages = new java.util.ArrayList<>();
    crawl(new JsonObject().put("maxDepth", 3).put("sitemap", "only"), pages)
        .onComplete(ctx.succeeding(job -> ctx.verify(() -> {
          Set<String> expected = new HashSet<>(TestSite.ORPHANS);
          expected.add("/p/" + (site.size - 1));
          assertThat(paths(pages)).isEqualTo(expected);
          assertThat(site.hits("/p/0")).isZero();
          assertThat(job.getInteger("robotsBlocked")).isEqualTo(1);
          assertThat(job.getInteger("total")).isEqualTo(expected.size() + 1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("sitemap skip: no sitemap is fetched, and the orphans stay unknown")
  void skip(VertxTestContext ctx) {
    List<JsonObject> pages = new java.util.ArrayList<>();
    crawl(new JsonObject().put("maxDepth", 1).put("sitemap", "skip"), pages)
        .onComplete(ctx.succeeding(job -> ctx.verify(() -> {
          assertThat(paths(pages)).isEqualTo(TestSite.pages(site.reachable(1, l -> true)));
          assertThat(site.hits("/sitemap.xml") + site.hits("/sitemap-index.xml")).isZero();
          ctx.completeNow();
        })));
  }
}
