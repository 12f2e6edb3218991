package io.fetchbus.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.Scrape;
import io.fetchbus.support.TestBase;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@code GET /metrics}: Vert.x's meters in Prometheus format, from a real service. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class MetricsTest extends TestBase {

  @Test
  @DisplayName("path parameters and invented HTTP methods never become label values")
  void boundedLabels(VertxTestContext ctx) {
    deployWithUpstream(new JsonObject())
        .compose(v -> fb.get("/v1/pages/424242"))
        .compose(v -> fb.get("/nowhere/737373"))
        .compose(v -> fb.http.request(HttpMethod.valueOf("BREW"), "/v1/pages").send())
        .compose(v -> scrapeUntil(s -> s.value("vertx_http_server_requests_total", "method", "OTHER") >= 1))
        .map(s -> {
          ctx.verify(() -> {
            assertThat(s.allLabelValues()).noneMatch(v -> v.contains("424242") || v.contains("737373") || v.equals("BREW"));
            assertThat(s.value("vertx_http_server_requests_total", "route", "/v1/pages/:id", "code", "404")).isEqualTo(1);
            assertThat(s.labelValues("vertx_http_server_requests_total", "method")).doesNotContain("BREW");
            assertThat(s.labelValues("vertx_http_server_requests_total", "route"))
                .allMatch(route -> route.isEmpty() || route.startsWith("/") && !route.contains(">"));
          });
          return s;
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("with metrics.key set, /metrics answers 401 problem+json without it or with an API key, and 200 with it")
  void metricsKey(VertxTestContext ctx) {
    JsonObject config = new JsonObject()
        .put("metrics", new JsonObject().put("key", "scrape-s3cret"))
        .put("auth", new JsonObject().put("keys", new JsonArray().add("ci:api-s3cret")));
    deployWithUpstream(config)
        .compose(v -> metrics(null))
        .compose(none -> metrics("api-s3cret").compose(apiKey -> metrics("scrape-s3cret").map(right -> {
          ctx.verify(() -> {
            assertThat(none.statusCode()).isEqualTo(401);
            assertThat(none.getHeader("Content-Type")).isEqualTo("application/problem+json");
            assertThat(none.getHeader("WWW-Authenticate")).startsWith("Bearer");
            assertThat(none.bodyAsJsonObject().getString("type")).isEqualTo("/problems/unauthorized");
            assertThat(none.bodyAsString()).doesNotContain("scrape-s3cret");
            assertThat(apiKey.statusCode()).isEqualTo(401);
            assertThat(right.statusCode()).isEqualTo(200);
            assertThat(right.getHeader("Content-Type")).startsWith("text/plain");
            assertThat(Scrape.parse(right.bodyAsString()).has("vertx_http_server_requests_total")).isTrue();
          });
          return right;
        })))
        .compose(v -> fb.get("/health"))
        .onComplete(ctx.succeeding(health -> ctx.verify(() -> {
          assertThat(health.statusCode()).isEqualTo(200); // the probes stay open
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("with metrics.enabled false, /metrics is not served")
  void disabled(VertxTestContext ctx) {
    deployWithUpstream(new JsonObject().put("metrics", new JsonObject().put("enabled", false)))
        .compose(v -> fb.get("/metrics"))
        .onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
          assertThat(resp.statusCode()).isEqualTo(404);
          ctx.completeNow();
        })));
  }

  private Future<HttpResponse<Buffer>> metrics(String key) {
    var req = fb.http.get("/metrics");
    if (key != null) {
      req.putHeader("Authorization", "Bearer " + key);
    }
    return req.send();
  }

  /**
   * Scrapes until {@code ready} holds, or 40 times 50 ms have passed: Vert.x records a request once its response has
   * ended, which the client can see a moment earlier. The last scrape is returned either way, for the assertions.
   */
  private Future<Scrape> scrapeUntil(Predicate<Scrape> ready) {
    return scrapeUntil(ready, 40);
  }

  private Future<Scrape> scrapeUntil(Predicate<Scrape> ready, int attempts) {
    return metrics(null).compose(resp -> {
      Scrape s = Scrape.parse(resp.bodyAsString());
      if (resp.statusCode() != 200 || ready.test(s) || attempts <= 1) {
        return Future.succeededFuture(s);
      }
      return vertx.timer(50).compose(t -> scrapeUntil(ready, attempts - 1));
    });
  }
}
