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

/** {@code GET /metrics}: Vert.x's meters and Fetchbus's own, in Prometheus format, from a real service. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class MetricsTest extends TestBase {

  @Test
  @DisplayName("a fetch through the REST API shows in /metrics: its route, the upstream fetch, bytes, latency, cache and the stored page")
  void fetchIsMeasured(VertxTestContext ctx) {
    JsonObject twice = new JsonObject().put("maxAgeSeconds", 60);
    deployWithUpstream(new JsonObject())
        .compose(v -> fb.postFetch(new JsonObject().put("url", up.url("/page/metered"))))
        .compose(created -> fb.get("/v1/pages/" + created.bodyAsJsonObject().getLong("id"))
            .compose(page -> fb.postFetch(twice.copy().put("url", up.url("/page/metered"))))
            .map(cached -> {
              ctx.verify(() -> {
                assertThat(created.statusCode()).isEqualTo(201);
                assertThat(cached.bodyAsJsonObject().getBoolean("fromCache")).isTrue();
              });
              return created;
            }))
        .compose(created -> scrapeUntil(s -> s.value("vertx_http_server_requests_total", "route", "/v1/fetch") >= 2)
            .map(s -> {
              ctx.verify(() -> {
                long bytes = created.bodyAsJsonObject().getLong("bytes");
                // HTTP server, per route template: the page id is not a label value, its route is.
                assertThat(s.value("vertx_http_server_requests_total", "route", "/v1/fetch", "method", "POST",
                    "code", "201")).isEqualTo(1);
                assertThat(s.value("vertx_http_server_requests_total", "route", "/v1/fetch", "code", "200")).isEqualTo(1);
                assertThat(s.value("vertx_http_server_requests_total", "route", "/v1/pages/:id", "code", "200")).isEqualTo(1);
                assertThat(s.value("vertx_http_server_response_time_seconds_count", "route", "/v1/fetch")).isEqualTo(2);
                // Fetchbus's meters: one upstream fetch (the second answer came from the cache), its body and time.
                assertThat(s.value("fetchbus_fetches_total", "outcome", "ok", "status_class", "2xx")).isEqualTo(1);
                assertThat(s.value("fetchbus_fetches_total")).isEqualTo(1);
                assertThat(s.value("fetchbus_fetched_bytes_total")).isEqualTo(bytes).isPositive();
                assertThat(s.value("fetchbus_fetch_duration_seconds_count", "result", "ok")).isEqualTo(1);
                assertThat(s.value("fetchbus_fetch_duration_seconds_bucket", "result", "ok", "le", "+Inf")).isEqualTo(1);
                assertThat(s.value("fetchbus_cache_gets_total", "result", "hit")).isEqualTo(1);
                assertThat(s.value("fetchbus_cache_gets_total", "result", "miss")).isEqualTo(1);
                assertThat(s.value("fetchbus_cache_entries")).isEqualTo(1);
                assertThat(s.value("fetchbus_cache_size_bytes")).isGreaterThan(bytes);
                assertThat(s.value("fetchbus_pages_stored_total", "result", "ok")).isEqualTo(1);
                assertThat(s.value("fetchbus_pages_stored_total", "result", "failure")).isZero();
                // Vert.x's own: the HTTP client went upstream, the event bus carried the work, the pools served it.
                assertThat(s.value("vertx_http_client_requests_total")).isGreaterThanOrEqualTo(2); // robots.txt and the page
                // One fetch message: the cached answer came from the API's hot records, without a bus hop.
                assertThat(s.value("vertx_eventbus_processed_total", "address", "fetchbus.fetch")).isEqualTo(1);
                assertThat(s.value("vertx_eventbus_published_total", "address", "fetchbus.page.stored")).isEqualTo(1);
                assertThat(s.value("vertx_pool_completed_total", "pool_type", "worker")).isPositive(); // extraction
                assertThat(s.value("vertx_pool_completed_total", "pool_type", "sql")).isPositive();
                // The HTTP client's pools (one per upstream host and port) are one series, never one per host.
                assertThat(s.labelValues("vertx_pool_in_use", "pool_name")).contains("upstream")
                    .noneMatch(name -> name.matches(".*:\\d+"));
              });
              return s;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("robots.txt blocks, guard denials and failed fetches are counted by reason and failure slug")
  void refusalsAreCounted(VertxTestContext ctx) {
    deployWithUpstream(new JsonObject())
        .compose(v -> {
          up.robots(200, "User-agent: *\nDisallow: /page/private\n");
          return fb.postFetch(new JsonObject().put("url", up.url("/page/private")));
        })
        .compose(robots -> fb.postFetch(new JsonObject().put("url", "http://2130706433/")).map(ipSpelling -> {
          ctx.verify(() -> {
            assertThat(robots.statusCode()).isEqualTo(403);
            assertThat(ipSpelling.statusCode()).isEqualTo(403);
          });
          return ipSpelling;
        }))
        .compose(v -> scrapeUntil(s -> s.value("fetchbus_fetches_total") >= 2))
        .map(s -> {
          ctx.verify(() -> {
            assertThat(s.value("fetchbus_robots_blocks_total", "reason", "disallowed")).isEqualTo(1);
            assertThat(s.value("fetchbus_guard_denials_total", "reason", "ip-spelling")).isEqualTo(1);
            assertThat(s.value("fetchbus_fetches_total", "outcome", "robots-disallowed", "status_class", "none")).isEqualTo(1);
            assertThat(s.value("fetchbus_fetches_total", "outcome", "destination-not-allowed")).isEqualTo(1);
            assertThat(s.value("fetchbus_fetch_duration_seconds_count", "result", "failure")).isEqualTo(2);
            assertThat(s.value("fetchbus_fetches_total", "outcome", "ok")).isZero();
            // Refused fetches are stored as failed attempts, with their error.
            assertThat(s.value("fetchbus_pages_stored_total", "result", "failure")).isEqualTo(2);
            assertThat(s.value("fetchbus_pages_stored_total", "result", "ok")).isZero();
          });
          return s;
        })
        .onComplete(ctx.succeedingThenComplete());
  }

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
            assertThat(Scrape.parse(right.bodyAsString()).has("fetchbus_fetched_bytes_total")).isTrue();
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
  @DisplayName("with API keys and no metrics.key, /metrics needs an API key (401 without); metrics.open serves it open on purpose")
  void apiKeysGuardMetrics(VertxTestContext ctx) {
    JsonObject keys = new JsonObject().put("keys", new JsonArray().add("ci:api-s3cret"));
    deployWithUpstream(new JsonObject().put("auth", keys))
        .compose(v -> metrics(null).compose(none -> metrics("wrong").compose(wrong -> metrics("api-s3cret").map(right -> {
          ctx.verify(() -> {
            assertThat(none.statusCode()).isEqualTo(401);
            assertThat(none.getHeader("Content-Type")).isEqualTo("application/problem+json");
            assertThat(none.bodyAsJsonObject().getString("detail")).contains("metrics.open");
            assertThat(wrong.statusCode()).isEqualTo(401);
            assertThat(right.statusCode()).isEqualTo(200);
            assertThat(Scrape.parse(right.bodyAsString()).has("vertx_http_server_requests_total")).isTrue();
          });
          return right;
        }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("metrics.open=true keeps /metrics open beside API keys, as chosen")
  void metricsOpenOnPurpose(VertxTestContext ctx) {
    deployWithUpstream(new JsonObject().put("auth", new JsonObject().put("keys", new JsonArray().add("ci:api-s3cret")))
            .put("metrics", new JsonObject().put("open", true)))
        .compose(v -> metrics(null))
        .onComplete(ctx.succeeding(open -> ctx.verify(() -> {
          assertThat(open.statusCode()).isEqualTo(200);
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
