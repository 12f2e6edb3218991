package io.fetchbus.crawl;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.ops.FreePort;
import io.fetchbus.support.JobClient;
import io.fetchbus.support.RawUpstream;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.Upstream;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What a crawl tries again, and when: failures another attempt would only repeat end at once, and an upstream's
 * "not now" (429 with Retry-After) puts the URL back in the frontier until Retry-After has passed, a bounded
 * number of times, instead of storing the 429 as the URL's page.
 */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class CrawlRetryTest extends TestBase {
  private static final int MAX_ATTEMPTS = 3;
  private RawUpstream raw;

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    // The fetcher waits at most 500 ms for a Retry-After, so a 1 s one is the crawl's to honour.
    deployWithUpstream(new JsonObject()
        .put("crawl", new JsonObject().put("pollMs", 50).put("retryBaseMs", 20).put("retryMaxMs", 100)
            .put("maxAttempts", MAX_ATTEMPTS))
        .put("fetch", new JsonObject().put("retry", new JsonObject().put("max", 2).put("baseDelayMs", 20)
            .put("maxDelayMs", 500))))
        .compose(v -> RawUpstream.start(vertx))
        .onSuccess(r -> raw = r)
        .onComplete(ctx.succeedingThenComplete());
  }

  /** Submits a batch of {@code urls} (robots.txt not asked) and answers the finished job and its errors by URL. */
  private Future<Map<String, JsonObject>> batchErrors(List<String> urls, JsonObject[] job) {
    return fb.http.post("/v1/batches")
        .sendJsonObject(new JsonObject().put("urls", new JsonArray(urls)).put("obeyRobots", false))
        .compose(resp -> JobClient.finished(fb, "/v1/batches/" + resp.bodyAsJsonObject().getString("id")))
        .compose(finished -> {
          job[0] = finished;
          return JobClient.all(fb, "/v1/batches/" + finished.getString("id") + "/errors");
        })
        .map(errors -> errors.stream().collect(Collectors.toMap(e -> e.getString("url"), e -> e)));
  }

  @Test
  @DisplayName("a redirect loop, a redirect chain over fetch.maxRedirects and a malformed response fail at their first "
      + "attempt; a refused connection is still tried crawl.maxAttempts times")
  void permanentFailuresAreNotRetried(VertxTestContext ctx) {
    JsonObject[] job = new JsonObject[1];
    // A port the system just found free: nothing listens there, so connecting is refused.
    FreePort.on(vertx, "127.0.0.1").compose(port -> {
      String refused = "http://127.0.0.1:" + port + "/gone";
      List<String> urls = List.of(up.url("/loop/a"), up.url("/redirect/9"), raw.url("/bad-status"), refused);
      return batchErrors(urls, job).map(errors -> {
        ctx.verify(() -> {
          assertThat(job[0].getString("status")).isEqualTo("completed");
          assertThat(job[0].getInteger("failed")).isEqualTo(4);
          assertThat(errors.get(up.url("/loop/a")).getString("errorClass")).isEqualTo("redirect-loop");
          assertThat(errors.get(up.url("/redirect/9")).getString("errorClass")).isEqualTo("too-many-redirects");
          assertThat(errors.get(raw.url("/bad-status")).getString("errorClass")).isEqualTo("bad-response");
          for (String url : List.of(up.url("/loop/a"), up.url("/redirect/9"), raw.url("/bad-status"))) {
            assertThat(errors.get(url).getInteger("attempts")).as(url).isEqualTo(1);
          }
          assertThat(up.hits("/loop/a")).as("the loop's first hop, requested once").isEqualTo(1);
          assertThat(errors.get(refused).getString("errorClass")).isEqualTo("connect-failed");
          assertThat(errors.get(refused).getInteger("attempts")).isEqualTo(MAX_ATTEMPTS);
        });
        return errors;
      });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a 429 whose Retry-After is over the fetcher's cap is not the URL's page: the crawl comes back after "
      + "Retry-After and stores the page then; one still 429 after crawl.maxAttempts, or asking to wait longer than "
      + "crawl.maxRetryAfterMs, is a job error, and no 429 is stored")
  void notNowComesBackLater(VertxTestContext ctx) {
    String later = up.url("/limited/later?times=1&after=1");
    String never = up.url("/limited/never?times=100&after=1");
    String tooLong = up.url("/limited/too-long?times=1&after=7200");
    JsonObject[] job = new JsonObject[1];
    batchErrors(List.of(later, never, tooLong), job)
        .compose(errors -> JobClient.all(fb, "/v1/batches/" + job[0].getString("id") + "/pages").map(pages -> {
          ctx.verify(() -> {
            assertThat(job[0].getString("status")).isEqualTo("completed");
            assertThat(pages).singleElement().satisfies(page -> {
              assertThat(page.getString("url")).isEqualTo(later);
              assertThat(page.getInteger("status")).isEqualTo(200);
              assertThat(page.getString("title")).isEqualTo("Limited later");
            });
            List<Long> arrivals = up.limitedArrivals("later");
            assertThat(arrivals).hasSize(2);
            assertThat(arrivals.get(1) - arrivals.get(0)).as("not back before Retry-After").isGreaterThanOrEqualTo(950);

            assertThat(errors.keySet()).containsExactlyInAnyOrder(never, tooLong);
            assertThat(errors.get(never).getInteger("attempts")).isEqualTo(MAX_ATTEMPTS);
            assertThat(errors.get(never).getString("error")).contains("429");
            assertThat(up.limitedArrivals("never")).hasSize(MAX_ATTEMPTS);
            assertThat(errors.get(tooLong).getInteger("attempts")).isEqualTo(1);
            assertThat(errors.get(tooLong).getString("error")).contains("crawl.maxRetryAfterMs");
            assertThat(up.limitedArrivals("too-long")).hasSize(1);
          });
          return pages;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }
}
