package io.fetchbus.crawl;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.CrawlSetup;
import io.fetchbus.support.JobClient;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestSite;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class JobsApiTest extends TestBase {
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

  @ParameterizedTest(name = "{0} -> 400 naming {1}")
  @CsvSource(delimiter = '|', value = {
      "{\"url\":\"ftp://example.com/\"}|url",
      "{\"maxDepth\":1}|url",
      "{\"url\":\"http://example.com/\",\"limit\":-1}|limit",
      "{\"url\":\"http://example.com/\",\"limit\":0}|limit",
      "{\"url\":\"http://example.com/\",\"maxDepth\":1.5}|maxDepth",
      "{\"url\":\"http://example.com/\",\"maxDepth\":101}|maxDepth",
      "{\"url\":\"http://example.com/\",\"includePaths\":[\"(unclosed\"]}|includePaths[0]",
      "{\"url\":\"http://example.com/\",\"excludePaths\":\"/a\"}|excludePaths",
      "{\"url\":\"http://example.com/\",\"sitemap\":\"sometimes\"}|sitemap",
      "{\"url\":\"http://example.com/\",\"obeyRobots\":\"yes\"}|obeyRobots",
      "{\"url\":\"http://example.com/\",\"maxdepth\":2}|maxdepth",
      "{\"url\":\"http://example.com/\",\"formats\":[\"pdf\"]}|formats[0]",
      "{\"url\":\"http://example.com/\",\"webhook\":{\"url\":\"gopher://x/\"}}|webhook.url",
      "{\"url\":\"http://example.com/\",\"webhook\":{\"url\":\"http://x/\",\"events\":[\"sometimes\"]}}|webhook.events[0]",
  })
  void invalidSpecs(String body, String field, VertxTestContext ctx) {
    fb.http.post("/v1/crawls").sendBuffer(Buffer.buffer(body)).onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
      assertThat(resp.statusCode()).isEqualTo(400);
      assertThat(resp.getHeader("Content-Type")).isEqualTo("application/problem+json");
      assertThat(resp.bodyAsJsonObject().getString("detail")).startsWith(field + ":");
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("more than 100 patterns is a 400")
  void tooManyPatterns(VertxTestContext ctx) {
    JsonArray patterns = new JsonArray();
    for (int i = 0; i < 101; i++) {
      patterns.add("^/a" + i);
    }
    fb.http.post("/v1/crawls").sendJsonObject(CrawlSetup.linksOnly(site).put("includePaths", patterns))
        .onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
          assertThat(resp.statusCode()).isEqualTo(400);
          assertThat(resp.bodyAsJsonObject().getString("detail")).startsWith("includePaths: at most 100");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("unknown or malformed job ids are 404 on every job route")
  void unknownJobs(VertxTestContext ctx) {
    List<Future<HttpResponse<Buffer>>> answers = new ArrayList<>();
    for (String id : new String[] {"00000000-0000-0000-0000-000000000000", "not-a-job"}) {
      answers.add(fb.get("/v1/crawls/" + id));
      answers.add(fb.get("/v1/crawls/" + id + "/pages"));
      answers.add(fb.get("/v1/crawls/" + id + "/errors"));
      answers.add(fb.get("/v1/batches/" + id + "/events"));
      answers.add(fb.http.delete("/v1/crawls/" + id).send());
    }
    Future.all(answers).onComplete(ctx.succeeding(all -> ctx.verify(() -> {
      for (Future<HttpResponse<Buffer>> answer : answers) {
        assertThat(answer.result().statusCode()).isEqualTo(404);
        assertThat(answer.result().getHeader("Content-Type")).isEqualTo("application/problem+json");
      }
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("a batch fetches each valid URL once, reports invalid ones by index, and completes")
  void batch(VertxTestContext ctx) {
    JsonArray urls = new JsonArray().add(site.url("/p/1")).add("not a url").add(site.url("/p/2"))
        .add(site.url("/p/1#again")).add(42).add(site.url("/private/5"));
    fb.http.post("/v1/batches").sendJsonObject(new JsonObject().put("urls", urls))
        .compose(resp -> {
          JsonObject accepted = resp.bodyAsJsonObject();
          ctx.verify(() -> {
            assertThat(resp.statusCode()).isEqualTo(202);
            assertThat(resp.getHeader("Location")).isEqualTo("/v1/batches/" + accepted.getString("id"));
            assertThat(accepted.getJsonArray("invalidUrls")).extracting(o -> ((JsonObject) o).getInteger("index"))
                .containsExactly(1, 4);
          });
          String id = accepted.getString("id");
          return JobClient.finished(fb, "/v1/batches/" + id)
              .compose(job -> JobClient.all(fb, "/v1/batches/" + id + "/pages").map(pages -> {
                ctx.verify(() -> {
                  assertThat(job.getString("status")).isEqualTo("completed");
                  assertThat(job.getString("kind")).isEqualTo("batch");
                  assertThat(job.getInteger("completed")).isEqualTo(2);
                  assertThat(job.getInteger("robotsBlocked")).isEqualTo(1);
                  assertThat(pages.stream().map(p -> URI.create(p.getString("url")).getPath()).collect(Collectors.toSet()))
                      .containsExactlyInAnyOrder("/p/1", "/p/2");
                  assertThat(site.hits("/p/1")).isEqualTo(1);
                  assertThat(site.hits("/p/3")).isZero(); // batches follow no links
                });
                return null;
              }));
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a batch of more than 10,000 URLs is a 400, and so is one of no valid URL")
  void batchBounds(VertxTestContext ctx) {
    JsonArray tooMany = new JsonArray();
    for (int i = 0; i < 10_001; i++) {
      tooMany.add("http://example.com/" + i);
    }
    // 10,001 URLs do not fit the default 64 KiB body limit: that answer is a 413 before any parsing.
    fb.http.post("/v1/batches").sendJsonObject(new JsonObject().put("urls", tooMany))
        .compose(big -> fb.http.post("/v1/batches").sendJsonObject(new JsonObject().put("urls", new JsonArray().add("nope")))
            .map(none -> {
              ctx.verify(() -> {
                assertThat(big.statusCode()).isIn(400, 413);
                assertThat(none.statusCode()).isEqualTo(400);
                assertThat(none.bodyAsJsonObject().getString("detail")).startsWith("urls: no entry is a valid URL");
              });
              return null;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("GET /v1/crawls lists jobs newest first, filters by status, and pages with next")
  void listing(VertxTestContext ctx) {
    JsonObject spec = CrawlSetup.linksOnly(site).put("maxDepth", 0);
    JobClient.crawl(fb, spec).compose(a -> JobClient.finished(fb, "/v1/crawls/" + a)
            .compose(x -> JobClient.crawl(fb, spec)).compose(b -> JobClient.finished(fb, "/v1/crawls/" + b)
                .compose(x -> JobClient.crawl(fb, spec)).compose(c -> JobClient.finished(fb, "/v1/crawls/" + c)
                    .compose(x -> fb.http.delete("/v1/crawls/" + c).send())
                    .compose(x -> JobClient.all(fb, "/v1/crawls"))
                    .compose(all -> fb.get("/v1/crawls?status=completed").compose(done -> fb.get("/v1/batches")
                        .compose(batches -> fb.get("/v1/crawls?status=nonsense").map(bad -> {
                          ctx.verify(() -> {
                            assertThat(all).extracting(j -> j.getString("id")).containsExactly(c, b, a);
                            assertThat(done.bodyAsJsonObject().getJsonArray("items")).hasSize(3);
                            assertThat(batches.bodyAsJsonObject().getJsonArray("items")).isEmpty();
                            assertThat(bad.statusCode()).isEqualTo(400);
                          });
                          return null;
                        })))))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("GET /v1/crawls/{id}/events streams progress as Server-Sent Events and ends with the final state")
  void events(VertxTestContext ctx) {
    site.hold();
    JobClient.crawl(fb, CrawlSetup.linksOnly(site).put("maxDepth", 2))
        .compose(id -> held(vertx.createHttpClient()).request(HttpMethod.GET, fb.port, "127.0.0.1", "/v1/crawls/" + id + "/events")
            .compose(req -> req.send())
            .compose(resp -> {
              ctx.verify(() -> assertThat(resp.getHeader("Content-Type")).startsWith("text/event-stream"));
              site.release();
              return resp.body().map(body -> events(resp, body));
            }))
        .onComplete(ctx.succeeding(events -> ctx.verify(() -> {
          assertThat(events).isNotEmpty();
          assertThat(events.get(0).getString("status")).isIn("queued", "running");
          JsonObject last = events.get(events.size() - 1);
          assertThat(last.getString("status")).isEqualTo("completed");
          assertThat(last.getInteger("completed")).isEqualTo(TestSite.pages(site.reachable(2, l -> true)).size());
          ctx.completeNow();
        })));
  }

  private static List<JsonObject> events(HttpClientResponse resp, Buffer body) {
    List<JsonObject> events = new ArrayList<>();
    for (String block : body.toString().split("\n\n")) {
      for (String line : block.split("\n")) {
        if (line.startsWith("data: ")) {
          events.add(new JsonObject(line.substring(6)));
        }
      }
    }
    return events;
  }
}
