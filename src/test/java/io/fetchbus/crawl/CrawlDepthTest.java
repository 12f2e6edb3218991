package io.fetchbus.crawl;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.CrawlSetup;
import io.fetchbus.support.CrawlChecks;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.GraphSite;
import io.fetchbus.support.JobClient;
import io.fetchbus.support.Poll;
import io.fetchbus.support.TestBase;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A crawl's depth is the shortest link distance from the seed, whatever the order in which pages are found. The
 * test site forces the order: the short path to {@code /x} runs through {@code /short}, which answers late (or
 * fails first), so the long path finds {@code /x} and {@code /y} first, one link deeper than they are, and
 * {@code /y} at {@code maxDepth}, where its links are not followed. Then {@code /short} answers.
 */
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class CrawlDepthTest extends TestBase {
  private static final int MAX_DEPTH = 4;
  /** Shortest depths: / 0; /short, /a1 1; /a2, /x 2; /y 3; /z 4; /beyond 5 (never stored). */
  static final Map<String, List<String>> GRAPH = Map.of(
      "/", List.of("/short", "/a1"),
      "/a1", List.of("/a2"),
      "/a2", List.of("/x"),
      "/short", List.of("/x"),
      "/x", List.of("/y"),
      "/y", List.of("/z"),
      "/z", List.of("/beyond"),
      "/beyond", List.of());

  private GraphSite site;

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    // Fetch-level retries on: a 503 is asked again by the fetch engine, as it is by default. Attempts to spare, so
    // that a busy machine's timeouts cannot end a URL.
    JsonObject config = CrawlSetup.config().put("fetch", new JsonObject().put("retry", new JsonObject()
        .put("max", 2).put("baseDelayMs", 50)));
    config.getJsonObject("crawl").put("maxAttempts", 5);
    GraphSite.start(vertx, GRAPH)
        .compose(s -> {
          site = s;
          return ServiceUnderTest.fresh(vertx, config);
        })
        .onSuccess(f -> fb = f)
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a page on the short path answers late: the pages the long path found first get their shortest depth, "
      + "and the links of the one cut off at maxDepth are followed, without fetching or storing anything twice")
  void slowBranch(VertxTestContext ctx) {
    site.answerLate("/short");
    crawlInForcedOrder(() -> site.heldCount() == 1)
        .onComplete(ctx.succeeding(job -> ctx.verify(() -> {
          GRAPH.keySet().forEach(p -> assertThat(site.hits(p)).as(p).isEqualTo(p.equals("/beyond") ? 0 : 1));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a page on the short path fails first (503) and succeeds later: the crawl still stores exactly the "
      + "pages within maxDepth by the shortest path, each once")
  void failingThenSucceeding(VertxTestContext ctx) {
    site.failFirst("/short", 1).answerLate("/short"); // the 503 at once; the request after it waits
    crawlInForcedOrder(() -> site.hits("/short") == 2 && site.heldCount() == 1)
        .onComplete(ctx.succeeding(job -> ctx.verify(() -> {
          assertThat(site.hits("/short")).isEqualTo(2);
          GRAPH.keySet().stream().filter(p -> !p.equals("/short"))
              .forEach(p -> assertThat(site.hits(p)).as(p).isEqualTo(p.equals("/beyond") ? 0 : 1));
          ctx.completeNow();
        })));
  }

  /**
   * Crawls the site to {@link #MAX_DEPTH}; once {@code shortHeld} holds and the long path has stored {@code /y}
   * (at depth 4, one deeper than its shortest), lets {@code /short} answer. Then checks the job against the
   * breadth-first answer: the exact page set, each page once, each at its shortest depth, the job completed.
   */
  private Future<JsonObject> crawlInForcedOrder(BooleanSupplier shortHeld) {
    Set<String> expected = site.within(MAX_DEPTH);
    JsonObject spec = new JsonObject().put("url", site.url("/")).put("sitemap", "skip").put("maxDepth", MAX_DEPTH);
    return JobClient.crawl(fb, spec).compose(id -> Poll.until(vertx,
            () -> CrawlChecks.doneAt(vertx, site.url("/y")).map(depth -> depth != null && shortHeld.getAsBoolean()))
        .compose(v -> CrawlChecks.doneAt(vertx, site.url("/y")))
        .compose(longPathDepth -> {
          assertThat(longPathDepth).as("the depth the long path gave /y: the order was forced").isEqualTo(4);
          site.release();
          return JobClient.finished(fb, "/v1/crawls/" + id);
        })
        .compose(job -> CrawlChecks.exactPages(fb, id, expected)
            .compose(v -> CrawlChecks.storedDepths(vertx, id))
            .map(depths -> {
              assertThat(expected).doesNotContain("/beyond").contains("/z");
              assertThat(depths).isEqualTo(site.depths(MAX_DEPTH));
              assertThat(job.getString("status")).isEqualTo("completed");
              assertThat(job.getInteger("completed")).isEqualTo(expected.size());
              assertThat(job.getInteger("failed")).isZero();
              return job;
            })));
  }
}
