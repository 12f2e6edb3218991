package io.fetchbus.crawl;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.CrawlSetup;
import io.fetchbus.support.JobClient;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestSite;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The job options a crawl or batch may go without: maxConcurrency, maxAgeSeconds, pathPrefix and maxPathDepth. */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class JobOptionsTest extends TestBase {
  private TestSite site;

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    CrawlSetup.start(vertx, 40)
        .onSuccess(started -> {
          site = started.site();
          fb = started.fb();
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("maxConcurrency 1 keeps a crawl to one fetch at a time, where the node would run four on the host")
  void crawlOneAtATime(VertxTestContext ctx) {
    site.slow(30); // each page takes a while, so fetches would overlap if they could
    JobClient.crawl(fb, CrawlSetup.linksOnly(site).put("maxDepth", 2).put("maxConcurrency", 1))
        .compose(id -> JobClient.finished(fb, "/v1/crawls/" + id))
        .onComplete(ctx.succeeding(job -> ctx.verify(() -> {
          assertThat(job.getString("status")).isEqualTo("completed");
          assertThat(job.getInteger("completed")).isGreaterThan(4);
          assertThat(job.getJsonObject("spec").getInteger("maxConcurrency")).isEqualTo(1);
          assertThat(site.maxInProgress()).isEqualTo(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("maxConcurrency 2 bounds a batch of 12 URLs to two fetches at a time")
  void batchTwoAtATime(VertxTestContext ctx) {
    site.slow(30);
    JsonArray urls = new JsonArray();
    for (int i = 0; i < 12; i++) {
      urls.add(site.url("/p/" + i));
    }
    fb.http.post("/v1/batches").sendJsonObject(new JsonObject().put("urls", urls).put("maxConcurrency", 2))
        .compose(resp -> JobClient.finished(fb, resp.bodyAsJsonObject().getString("statusUrl")))
        .onComplete(ctx.succeeding(job -> ctx.verify(() -> {
          assertThat(job.getInteger("completed")).isEqualTo(12);
          assertThat(site.maxInProgress()).isBetween(1, 2);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("with maxAgeSeconds a batch takes a recent copy from the fetch cache instead of fetching it again")
  void batchFromCache(VertxTestContext ctx) {
    JsonArray urls = new JsonArray().add(site.url("/p/0")).add(site.url("/p/1"));
    fb.postFetch(new JsonObject().put("url", site.url("/p/0")))
        .compose(first -> fb.http.post("/v1/batches")
            .sendJsonObject(new JsonObject().put("urls", urls).put("maxAgeSeconds", 600)))
        .compose(resp -> JobClient.finished(fb, resp.bodyAsJsonObject().getString("statusUrl"))
            .compose(job -> JobClient.all(fb, "/v1/batches/" + job.getString("id") + "/pages").map(pages -> {
              ctx.verify(() -> {
                assertThat(job.getInteger("completed")).isEqualTo(2);
                assertThat(pages.stream().map(p -> URI.create(p.getString("url")).getPath()).collect(Collectors.toSet()))
                    .containsExactlyInAnyOrder("/p/0", "/p/1");
                assertThat(site.hits("/p/0")).as("fetched once, by POST /v1/fetch").isEqualTo(1);
                assertThat(site.hits("/p/1")).isEqualTo(1);
              });
              return job;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a crawl with pathPrefix stores only the seed and the pages under the prefix")
  void underPrefix(VertxTestContext ctx) {
    // From /p/1, the pages under /p/1 are /p/1 and /p/1x (a string prefix, as Firecrawl's crawlEntireDomain=false).
    JobClient.crawl(fb, new JsonObject().put("url", site.url("/p/1")).put("sitemap", "skip").put("maxDepth", 10)
            .put("pathPrefix", "/p/1"))
        .compose(id -> JobClient.finished(fb, "/v1/crawls/" + id).compose(job -> JobClient.all(fb, "/v1/crawls/" + id + "/pages")))
        .onComplete(ctx.succeeding(pages -> ctx.verify(() -> {
          assertThat(pages).isNotEmpty();
          assertThat(pages.stream().map(p -> URI.create(p.getString("url")).getPath()))
              .allMatch(path -> path.startsWith("/p/1"), "under /p/1")
              .contains("/p/1", "/p/10");
          ctx.completeNow();
        })));
  }
}
