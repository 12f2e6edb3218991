package io.fetchbus.crawl;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.JobClient;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestVertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A job whose patterns backtrack badly over a page of long links: matching is bounded per page and runs on a
 * worker (TestBase fails the test if an event loop was held), and the links it could not decide about are the
 * job's errors, not silently dropped.
 */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class RegexBudgetTest extends TestBase {
  private static final int SHORT = 300;
  private static final int LONG = 300;
  /**
   * Each reads about n² characters of a path of n b's, 160,000 for these links: under the 200,000 steps a link
   * may take for one pattern, but five of them are 800,000, and 300 such links 240 million.
   */
  private static final List<String> EVIL = List.of("b*Z0", "b*Z1", "b*Z2", "b*Z3", "b*Z4");

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    deployWithUpstream(new JsonObject().put("crawl", new JsonObject().put("pollMs", 50)))
        .onComplete(ctx.succeedingThenComplete());
  }

  private static String longPath(int i) {
    return "/long/" + i + "/" + "b".repeat(400);
  }

  @Test
  @DisplayName("five b*Z0-like excludes over 300 links of 700 characters: the cheap links are followed, the others "
      + "reported as job errors with errorClass regex-budget, and no event loop is held")
  void undecidedLinksAreReported(VertxTestContext ctx) {
    StringBuilder html = new StringBuilder("<!doctype html><html><head><title>Many links</title></head><body>");
    for (int i = 0; i < SHORT; i++) {
      html.append("<a href=\"/short/").append(i).append("\">s</a>");
    }
    for (int i = 0; i < LONG; i++) {
      html.append("<a href=\"").append(longPath(i)).append("\">l</a>");
    }
    String seed = up.url(up.doc("links", html.append("</body></html>").toString()));
    // limit 1: only the seed is stored; the links followed stay queued and end as skipped.
    JsonObject spec = new JsonObject().put("url", seed).put("maxDepth", 1).put("limit", 1).put("sitemap", "skip")
        .put("excludePaths", new JsonArray(EVIL));
    JobClient.crawl(fb, spec)
        .compose(id -> JobClient.finished(fb, "/v1/crawls/" + id)
            .compose(job -> JobClient.all(fb, "/v1/crawls/" + id + "/errors").map(errors -> {
              ctx.verify(() -> {
                assertThat(job.getString("status")).isEqualTo("completed");
                assertThat(job.getInteger("completed")).isEqualTo(1);
                assertThat(job.getInteger("skipped")).as("the short links, followed").isEqualTo(SHORT);
                Set<String> reported = errors.stream().map(e -> e.getString("url")).collect(Collectors.toSet());
                Set<String> longLinks = java.util.stream.IntStream.range(0, LONG).mapToObj(i -> up.url(longPath(i)))
                    .collect(Collectors.toSet());
                assertThat(reported).isEqualTo(longLinks);
                assertThat(errors).allSatisfy(e -> {
                  assertThat(e.getString("errorClass")).isEqualTo("regex-budget");
                  assertThat(e.getString("state")).isEqualTo("failed");
                  assertThat(e.getString("error")).contains("regex budget").contains(seed);
                });
                assertThat(job.getInteger("failed")).isEqualTo(LONG);
                // What matters: no event loop was held by matching (TestBase also fails on any loop held too long).
                assertThat(TestVertx.blockedEventLoops(vertx)).noneMatch(report -> report.contains("java.util.regex")
                    || report.contains("CrawlScope") || report.contains("RegexBudget"));
              });
              return errors;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }
}
