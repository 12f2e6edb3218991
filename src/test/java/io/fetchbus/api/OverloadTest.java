package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.TestBase;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A burst of ten times what the service is sized for, every request at once: each bound that is hit answers
 * at once with 503 or 429 and Retry-After, nothing else fails, and the service answers normally right after.
 */
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class OverloadTest extends TestBase {
  /** Requests in progress the API admits; the burst is ten times that. */
  private static final int CAPACITY = 24;
  private static final int BURST = 10 * CAPACITY;

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    deployWithUpstream(new JsonObject()
        .put("limits", new JsonObject().put("maxInFlightRequests", CAPACITY))
        .put("pg", new JsonObject().put("poolSize", 2).put("maxWaitQueue", 4))
        .put("extract", new JsonObject().put("instances", 1).put("maxQueued", 4))
        .put("fetch", new JsonObject().put("maxQueued", 8).put("perHostQueue", 8).put("perHostConcurrency", 2)))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a burst of 10x capacity: only 503/429 with Retry-After beyond the bounds, then normal service")
  void burst(VertxTestContext ctx) {
    // A client with room for the whole burst, so the service (not the test's pool) sees it all at once.
    WebClient client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(fb.port),
        new PoolOptions().setHttp1MaxSize(BURST));
    List<Future<HttpResponse<Buffer>>> answers = new ArrayList<>();
    for (int i = 0; i < BURST; i++) {
      answers.add(i % 4 == 3
          ? client.get("/v1/pages?limit=500").send()
          : client.post("/v1/fetch").sendJsonObject(new JsonObject().put("url", up.url("/slow/burst-" + i))));
    }
    Future.join(answers)
        .compose(all -> client.get("/ready").send()
            .compose(ready -> client.post("/v1/fetch").sendJsonObject(new JsonObject().put("url", up.url("/page/after")))
                .map(after -> {
                  Map<Integer, Integer> statuses = new TreeMap<>();
                  ctx.verify(() -> {
                    for (Future<HttpResponse<Buffer>> answer : answers) {
                      assertThat(answer.succeeded()).as("every request gets an answer").isTrue();
                      HttpResponse<Buffer> resp = answer.result();
                      statuses.merge(resp.statusCode(), 1, Integer::sum);
                      assertThat(resp.statusCode()).as(resp.bodyAsString()).isIn(200, 201, 429, 503);
                      if (resp.statusCode() >= 400) {
                        assertThat(resp.getHeader("Retry-After")).isNotNull();
                        assertThat(resp.getHeader("Content-Type")).isEqualTo("application/problem+json");
                      }
                    }
                    assertThat(statuses.getOrDefault(503, 0) + statuses.getOrDefault(429, 0))
                        .as("some bound was hit: %s", statuses).isPositive();
                    assertThat(statuses.getOrDefault(201, 0)).as("work still got done: %s", statuses).isPositive();
                    assertThat(ready.statusCode()).isEqualTo(200);
                    assertThat(after.statusCode()).isEqualTo(201);
                  });
                  return null;
                })))
        .onComplete(ctx.succeedingThenComplete());
  }
}
