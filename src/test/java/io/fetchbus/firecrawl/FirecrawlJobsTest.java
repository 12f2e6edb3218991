package io.fetchbus.firecrawl;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.DocsSite;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Firecrawl's crawl and batch scrape over plain HTTP, v1 and v2, against a local site: every request field's
 * translation to the Fetchbus job, the answers' shapes, paging by {@code next}, cancel, errors, and every refusal.
 */
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class FirecrawlJobsTest extends TestBase {
  static final String KEY = "jobs-s3cret";
  private DocsSite site;

  /** Quick retries and polls, so that a URL that always fails is given up on in a moment. */
  static JsonObject config() {
    return new JsonObject()
        .put("auth", new JsonObject().put("keys", new JsonArray().add("fc:" + KEY)))
        .put("crawl", new JsonObject().put("pollMs", 50).put("retryBaseMs", 20).put("retryMaxMs", 100)
            .put("maxAttempts", 2))
        .put("fetch", new JsonObject().put("retry", new JsonObject().put("max", 0)));
  }

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    DocsSite.start(vertx)
        .compose(s -> {
          site = s;
          return ServiceUnderTest.fresh(vertx, config());
        })
        .onSuccess(f -> fb = f)
        .onComplete(ctx.succeedingThenComplete());
  }

  static Future<HttpResponse<Buffer>> send(ServiceUnderTest fb, HttpMethod method, String pathOrUrl, JsonObject body) {
    var req = pathOrUrl.startsWith("http") ? fb.http.requestAbs(method, pathOrUrl) : fb.http.request(method, pathOrUrl);
    req.putHeader("Authorization", "Bearer " + KEY).timeout(30_000);
    return body == null ? req.send() : req.sendJsonObject(body);
  }

  private Future<HttpResponse<Buffer>> send(HttpMethod method, String path, JsonObject body) {
    return send(fb, method, path, body);
  }

  /** The job's id, once the start answered 200 with Firecrawl's shape. */
  static Future<String> start(ServiceUnderTest fb, String path, JsonObject body) {
    return send(fb, HttpMethod.POST, path, body).map(resp -> {
      if (resp.statusCode() != 200) {
        throw new AssertionError("POST " + path + " answered " + resp.statusCode() + ": " + resp.bodyAsString());
      }
      JsonObject answer = resp.bodyAsJsonObject();
      assertThat(answer.getBoolean("success")).isTrue();
      assertThat(answer.getString("url")).isEqualTo("http://127.0.0.1:" + fb.port + path + "/" + answer.getString("id"));
      return answer.getString("id");
    });
  }

  /** The status once the job is no longer scraping; asks again every 50 ms (the test's timeout bounds this). */
  static Future<JsonObject> finished(ServiceUnderTest fb, String statusPath) {
    return send(fb, HttpMethod.GET, statusPath, null).compose(resp -> {
      JsonObject status = resp.bodyAsJsonObject();
      if (resp.statusCode() != 200) {
        throw new AssertionError("GET " + statusPath + " answered " + resp.statusCode() + ": " + resp.bodyAsString());
      }
      return "scraping".equals(status.getString("status"))
          ? fb.vertx.timer(50).compose(t -> finished(fb, statusPath)) : Future.succeededFuture(status);
    });
  }

  private static Set<String> paths(JsonArray docs) {
    return docs.stream().map(d -> URI.create(((JsonObject) d).getJsonObject("metadata").getString("sourceURL")).getPath())
        .collect(Collectors.toCollection(TreeSet::new));
  }

  private static void firecrawlError(HttpResponse<Buffer> resp, int status, String... texts) {
    assertThat(resp.statusCode()).as(resp.bodyAsString()).isEqualTo(status);
    JsonObject body = resp.bodyAsJsonObject();
    assertThat(body.getBoolean("success")).as(resp.bodyAsString()).isFalse();
    for (String text : texts) {
      assertThat(body.getString("error")).contains(text);
    }
  }

  @Test
  @DisplayName("a v2 crawl from /docs/ stays under /docs/ by default, sitemap URLs included, and its status holds "
      + "each page as Firecrawl's document")
  void v2CrawlUnderSeedPath(VertxTestContext ctx) {
    Set<String> expected = new TreeSet<>(DocsSite.reachable("/docs/", p -> p.startsWith("/docs/")));
    expected.add("/docs/orphan"); // from the sitemap; /blog/z is outside /docs/
    start(fb, "/v2/crawl", new JsonObject().put("url", site.url("/docs/"))
            .put("scrapeOptions", new JsonObject().put("formats", new JsonArray().add("markdown").add("links")))
            .put("origin", "js-sdk@4.42.0").put("integration", "test"))
        .compose(id -> finished(fb, "/v2/crawl/" + id).compose(status -> send(HttpMethod.GET, "/v1/crawls/" + id, null)
            .map(job -> {
              ctx.verify(() -> {
                assertThat(status.getString("status")).isEqualTo("completed");
                assertThat(paths(status.getJsonArray("data"))).isEqualTo(expected);
                assertThat(status.getInteger("completed")).isEqualTo(status.getInteger("total")).isEqualTo(expected.size());
                assertThat(status.getInteger("creditsUsed")).isEqualTo(expected.size());
                assertThat(status.containsKey("next")).isFalse();
                assertThat(status.containsKey("expiresAt")).as("pages are kept for good by default").isFalse();
                JsonObject doc = status.getJsonArray("data").stream().map(d -> (JsonObject) d)
                    .filter(d -> d.getJsonObject("metadata").getString("sourceURL").endsWith("/docs/a")).findFirst()
                    .orElseThrow();
                assertThat(doc.getString("markdown")).contains("Words of Page /docs/a.");
                assertThat(doc.getJsonArray("links").getList()).contains(site.url("/docs/a/deep/1"));
                assertThat(doc.containsKey("html")).isFalse();
                JsonObject meta = doc.getJsonObject("metadata");
                assertThat(meta.getString("title")).isEqualTo("Page /docs/a");
                assertThat(meta.getString("url")).isEqualTo(site.url("/docs/a"));
                assertThat(meta.getInteger("statusCode")).isEqualTo(200);
                assertThat(meta.getString("cacheState")).isEqualTo("miss");
                // The Fetchbus job it is: Firecrawl's defaults, translated.
                JsonObject spec = job.bodyAsJsonObject().getJsonObject("spec");
                assertThat(spec.getString("pathPrefix")).isEqualTo("/docs/");
                assertThat(spec.getInteger("maxDepth")).isEqualTo(100);
                assertThat(spec.getInteger("limit")).isEqualTo(10_000);
                assertThat(spec.getString("sitemap")).isEqualTo("include");
                assertThat(spec.getJsonArray("formats").getList()).containsExactlyInAnyOrder("metadata", "markdown", "links");
                assertThat(site.hits("/blog/x")).as("linked from /docs/, outside it").isZero();
              });
              return status;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("status pages follow next, an absolute URL on the request's scheme and Host, to every page once")
  void pagingByNext(VertxTestContext ctx) {
    start(fb, "/v2/crawl", new JsonObject().put("url", site.url("/")).put("sitemap", "skip"))
        .compose(id -> finished(fb, "/v2/crawl/" + id).compose(all -> {
          List<JsonObject> pages = new ArrayList<>();
          return follow(fb.http.requestAbs(HttpMethod.GET, "http://127.0.0.1:" + fb.port + "/v2/crawl/" + id + "?limit=3")
                  .putHeader("Host", "fetchbus.example:8443"), pages, id)
              .map(v -> {
                ctx.verify(() -> {
                  Set<String> expected = DocsSite.reachable("/", p -> true);
                  assertThat(pages.stream().map(p -> p.getString("next")).filter(n -> n != null).toList()).allSatisfy(
                      next -> assertThat(next).startsWith("http://fetchbus.example:8443/v2/crawl/" + id + "?cursor=")
                          .endsWith("&limit=3"));
                  JsonArray docs = new JsonArray();
                  pages.forEach(p -> p.getJsonArray("data").forEach(docs::add));
                  assertThat(docs).hasSize(expected.size());
                  assertThat(paths(docs)).isEqualTo(expected);
                  assertThat(pages).hasSize((expected.size() + 2) / 3);
                  assertThat(all.getJsonArray("data")).hasSize(expected.size());
                });
                return null;
              });
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  /** Follows {@code next} (rewritten to the test's port: the Host sent is a name that does not resolve). */
  private Future<Void> follow(io.vertx.ext.web.client.HttpRequest<Buffer> req, List<JsonObject> pages, String id) {
    return req.putHeader("Authorization", "Bearer " + KEY).send().compose(resp -> {
      JsonObject page = resp.bodyAsJsonObject();
      pages.add(page);
      String next = page.getString("next");
      if (next == null) {
        return Future.succeededFuture();
      }
      String local = next.replace("http://fetchbus.example:8443", "http://127.0.0.1:" + fb.port);
      return follow(fb.http.requestAbs(HttpMethod.GET, local).putHeader("Host", "fetchbus.example:8443"), pages, id);
    });
  }

  @Test
  @DisplayName("v1's maxDepth counts path segments, ignoreSitemap skips sitemaps, allowBackwardLinks widens the scope")
  void v1CrawlPathDepth(VertxTestContext ctx) {
    start(fb, "/v1/crawl", new JsonObject().put("url", site.url("/docs/")).put("maxDepth", 0)
            .put("ignoreSitemap", true).put("allowBackwardLinks", true).put("limit", 50)
            .put("scrapeOptions", new JsonObject().put("formats", new JsonArray().add("rawHtml"))))
        .compose(id -> finished(fb, "/v1/crawl/" + id).compose(status -> send(HttpMethod.GET, "/v1/crawls/" + id, null)
            .map(job -> {
              ctx.verify(() -> {
                // One segment, as the seed /docs/ has: /, /docs/, /blog/, /about, but not /docs/a.
                assertThat(paths(status.getJsonArray("data"))).containsExactlyInAnyOrder("/", "/docs/", "/blog/", "/about");
                JsonObject doc = status.getJsonArray("data").getJsonObject(0);
                assertThat(doc.getString("rawHtml")).contains("<h1>");
                assertThat(doc.containsKey("markdown")).isFalse();
                JsonObject spec = job.bodyAsJsonObject().getJsonObject("spec");
                assertThat(spec.getInteger("maxPathDepth")).isZero();
                assertThat(spec.containsKey("pathPrefix")).isFalse();
                assertThat(spec.getString("sitemap")).isEqualTo("skip");
                assertThat(spec.getInteger("limit")).isEqualTo(50);
              });
              return status;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a job's errors: the URL that kept failing with its reason, robots.txt's blocks; v1's DELETE reads them")
  void errors(VertxTestContext ctx) {
    start(fb, "/v2/crawl", new JsonObject().put("url", site.url("/about")).put("crawlEntireDomain", true)
            .put("maxDiscoveryDepth", 1).put("sitemap", "skip"))
        .compose(id -> finished(fb, "/v2/crawl/" + id)
            .compose(status -> send(HttpMethod.GET, "/v2/crawl/" + id + "/errors", null))
            .compose(v2 -> send(HttpMethod.DELETE, "/v1/crawl/" + id + "/errors", null).map(v1 -> {
              ctx.verify(() -> {
                for (HttpResponse<Buffer> resp : List.of(v2, v1)) {
                  assertThat(resp.statusCode()).as(resp.bodyAsString()).isEqualTo(200);
                  JsonObject body = resp.bodyAsJsonObject();
                  assertThat(body.getJsonArray("robotsBlocked").getList()).containsExactly(site.url("/private/secret"));
                  assertThat(body.getJsonArray("errors")).hasSize(1);
                  JsonObject error = body.getJsonArray("errors").getJsonObject(0);
                  assertThat(error.getString("url")).isEqualTo(site.url("/gone"));
                  assertThat(error.getString("error")).isNotBlank();
                  assertThat(error.getString("code")).isNotBlank();
                  assertThat(error.getString("id")).hasSize(36);
                  assertThat(error.getString("timestamp")).isNotBlank();
                }
                assertThat(v1.bodyAsJsonObject()).isEqualTo(v2.bodyAsJsonObject());
              });
              return v1;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a v2 batch scrape leaves an invalid URL out and names it; its status answers both documents")
  void v2Batch(VertxTestContext ctx) {
    JsonObject body = new JsonObject().put("urls", new JsonArray().add(site.url("/docs/a")).add(site.url("/blog/x"))
        .add("not a url")).put("formats", new JsonArray().add("markdown").add(new JsonObject().put("type", "html")))
        .put("maxConcurrency", 1).put("maxAge", 60_000);
    send(HttpMethod.POST, "/v2/batch/scrape", body)
        .compose(resp -> {
          ctx.verify(() -> {
            assertThat(resp.statusCode()).as(resp.bodyAsString()).isEqualTo(200);
            assertThat(resp.bodyAsJsonObject().getJsonArray("invalidURLs").getList()).containsExactly("not a url");
          });
          String id = resp.bodyAsJsonObject().getString("id");
          return finished(fb, "/v2/batch/scrape/" + id)
              .compose(status -> finished(fb, "/v1/crawl/" + id)) // Firecrawl's v1 SDK polls a batch there
              .compose(status -> send(HttpMethod.GET, "/v1/batches/" + id, null).map(job -> {
                ctx.verify(() -> {
                  assertThat(status.getString("status")).isEqualTo("completed");
                  assertThat(paths(status.getJsonArray("data"))).containsExactlyInAnyOrder("/docs/a", "/blog/x");
                  JsonObject doc = status.getJsonArray("data").getJsonObject(0);
                  assertThat(doc.getString("markdown")).contains("Words of Page");
                  assertThat(doc.getString("html")).contains("<h1>Page");
                  JsonObject spec = job.bodyAsJsonObject().getJsonObject("spec");
                  assertThat(spec.getInteger("maxConcurrency")).isEqualTo(1);
                  assertThat(spec.getInteger("maxAgeSeconds")).isEqualTo(60);
                });
                return job;
              }));
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a v1 batch refuses an invalid URL unless ignoreInvalidURLs; the same x-idempotency-key answers the "
      + "same job, and another request under it is a 409")
  void v1BatchAndIdempotency(VertxTestContext ctx) {
    JsonObject invalid = new JsonObject().put("urls", new JsonArray().add(site.url("/docs/a")).add("nope"));
    JsonObject batch = new JsonObject().put("urls", new JsonArray().add(site.url("/docs/a")));
    var keyed = fb.http.post("/v1/batch/scrape").putHeader("Authorization", "Bearer " + KEY)
        .putHeader("x-idempotency-key", "batch-1");
    send(HttpMethod.POST, "/v1/batch/scrape", invalid)
        .compose(refused -> keyed.sendJsonObject(batch)
            .compose(first -> keyed.sendJsonObject(batch)
                .compose(again -> keyed.sendJsonObject(batch.copy().put("formats", new JsonArray().add("html")))
                    .map(other -> {
                      ctx.verify(() -> {
                        firecrawlError(refused, 400, "urls[1]", "ignoreInvalidURLs");
                        assertThat(first.statusCode()).as(first.bodyAsString()).isEqualTo(200);
                        assertThat(again.bodyAsJsonObject().getString("id")).isEqualTo(first.bodyAsJsonObject().getString("id"));
                        firecrawlError(other, 409, "Idempotency key already used");
                      });
                      return other;
                    }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a running crawl is listed as active; DELETE cancels it: {success, status: cancelled}, and its status "
      + "says cancelled")
  void cancel(VertxTestContext ctx) {
    site.hold();
    start(fb, "/v2/crawl", new JsonObject().put("url", site.url("/")))
        .compose(id -> io.fetchbus.support.Poll.until(vertx, () -> Future.succeededFuture(site.heldCount() > 0))
            .compose(v -> send(HttpMethod.GET, "/v2/crawl/active", null))
            .compose(active -> {
              ctx.verify(() -> {
                assertThat(active.statusCode()).as(active.bodyAsString()).isEqualTo(200);
                JsonArray crawls = active.bodyAsJsonObject().getJsonArray("crawls");
                assertThat(crawls).hasSize(1);
                assertThat(crawls.getJsonObject(0).getString("id")).isEqualTo(id);
                assertThat(crawls.getJsonObject(0).getString("url")).isEqualTo(site.url("/"));
              });
              return send(HttpMethod.DELETE, "/v2/crawl/" + id, null);
            })
            .compose(cancelled -> {
              site.release();
              return finished(fb, "/v2/crawl/" + id).compose(status -> send(HttpMethod.DELETE, "/v1/crawl/" + id, null)
                  .map(again -> {
                    ctx.verify(() -> {
                      assertThat(cancelled.statusCode()).as(cancelled.bodyAsString()).isEqualTo(200);
                      assertThat(cancelled.bodyAsJsonObject()).isEqualTo(new JsonObject().put("success", true)
                          .put("status", "cancelled"));
                      assertThat(status.getString("status")).isEqualTo("cancelled");
                      assertThat(again.bodyAsJsonObject().getString("status")).isEqualTo("cancelled");
                    });
                    return status;
                  }));
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("every option Fetchbus cannot honour is a 400 in Firecrawl's shape that says why; nothing is fetched")
  void refusals(VertxTestContext ctx) {
    String url = site.url("/docs/");
    Map<String, JsonObject> crawls = new LinkedHashMap<>();
    crawls.put("no LLM to turn a prompt", new JsonObject().put("prompt", "the docs"));
    crawls.put("no per-job delay", new JsonObject().put("delay", 2));
    crawls.put("deduplicateSimilarURLs", new JsonObject().put("deduplicateSimilarURLs", true));
    crawls.put("robotsUserAgent", new JsonObject().put("robotsUserAgent", "MyBot"));
    crawls.put("zero data retention", new JsonObject().put("zeroDataRetention", true));
    crawls.put("takes no screenshots", new JsonObject().put("scrapeOptions", new JsonObject()
        .put("formats", new JsonArray().add("screenshot"))));
    crawls.put("scrapeOptions.actions", new JsonObject().put("scrapeOptions", new JsonObject()
        .put("actions", new JsonArray().add(new JsonObject().put("type", "click")))));
    crawls.put("credentials would leak", new JsonObject().put("scrapeOptions", new JsonObject()
        .put("headers", new JsonObject().put("Cookie", "a=b"))));
    crawls.put("scrapeOptions.waitFor", new JsonObject().put("scrapeOptions", new JsonObject().put("waitFor", 1000)));
    crawls.put("colour: not a v2 crawl option", new JsonObject().put("colour", "blue"));
    crawls.put("maxDepth: not a v2 crawl option", new JsonObject().put("maxDepth", 2));
    crawls.put("limit: must be between 1 and 100000", new JsonObject().put("limit", 200_000));
    crawls.put("webhook.secret: not a webhook option", new JsonObject().put("webhook", new JsonObject()
        .put("url", "http://127.0.0.1:1/hook").put("secret", "x")));
    crawls.put("includePaths[0]: is not a valid regular expression", new JsonObject()
        .put("includePaths", new JsonArray().add("(")));
    List<Future<HttpResponse<Buffer>>> answers = new ArrayList<>();
    crawls.values().forEach(body -> answers.add(send(HttpMethod.POST, "/v2/crawl", body.put("url", url))));
    Future<HttpResponse<Buffer>> appendTo = send(HttpMethod.POST, "/v2/batch/scrape", new JsonObject()
        .put("urls", new JsonArray().add(url)).put("appendToId", "0b9d2a47-6f5e-4d0a-9a53-4a8f5bb4c7a1"));
    Future<HttpResponse<Buffer>> storeInCache = send(HttpMethod.POST, "/v1/batch/scrape", new JsonObject()
        .put("urls", new JsonArray().add(url)).put("storeInCache", false));
    Future<HttpResponse<Buffer>> noUrls = send(HttpMethod.POST, "/v2/batch/scrape", new JsonObject()
        .put("urls", new JsonArray()));
    Future<HttpResponse<Buffer>> unknownJob = send(HttpMethod.GET, "/v2/crawl/0b9d2a47-6f5e-4d0a-9a53-4a8f5bb4c7a1", null);
    Future<HttpResponse<Buffer>> badParam = send(HttpMethod.GET, "/v2/crawl/0b9d2a47-6f5e-4d0a-9a53-4a8f5bb4c7a1?page=2",
        null);
    Future<HttpResponse<Buffer>> noSuchRoute = send(HttpMethod.PUT, "/v1/crawl/x", new JsonObject());
    Future<HttpResponse<Buffer>> ownRoute = send(HttpMethod.GET, "/v1/crawls/nope/x", null);
    List<Future<HttpResponse<Buffer>>> all = new ArrayList<>(answers);
    all.addAll(List.of(appendTo, storeInCache, noUrls, unknownJob, badParam, noSuchRoute, ownRoute));
    Future.all(all).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      int i = 0;
      for (String reason : crawls.keySet()) {
        firecrawlError(answers.get(i++).result(), 400, reason);
      }
      firecrawlError(appendTo.result(), 400, "appendToId", "start another batch");
      firecrawlError(storeInCache.result(), 400, "storeInCache");
      firecrawlError(noUrls.result(), 400, "urls: must be a non-empty array");
      firecrawlError(unknownJob.result(), 404, "there is no job");
      firecrawlError(badParam.result(), 400, "page: not a query parameter");
      firecrawlError(noSuchRoute.result(), 404, "Fetchbus does not serve PUT /v1/crawl/x");
      assertThat(ownRoute.result().getHeader("Content-Type")).as("Fetchbus's own routes keep problem+json")
          .isEqualTo("application/problem+json");
      assertThat(site.hits("/docs/")).isZero();
      ctx.completeNow();
    })));
  }
}
