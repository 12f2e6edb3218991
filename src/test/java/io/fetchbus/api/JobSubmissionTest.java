package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.fetchbus.support.TestSite;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Submitting crawls and batches as a careless or hostile client would: Idempotency-Keys reused for another request,
 * more jobs than a key may have, job records that would echo a credential, and the shape of the 202 itself. Two API
 * keys, so that what is per key can be seen to be.
 */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class JobSubmissionTest extends TestBase {
  private static final String A = "key-a-s3cret";
  private static final String B = "key-b-s3cret";
  private static final int QUOTA = 3;
  private TestSite site;

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    TestSite.start(vertx, 40)
        .compose(s -> {
          site = s;
          return ServiceUnderTest.fresh(vertx, new JsonObject()
              .put("auth", new JsonObject().put("keys", new JsonArray().add("a:" + A).add("b:" + B)))
              .put("crawl", new JsonObject().put("pollMs", 50))
              .put("limits", new JsonObject().put("maxActiveJobsPerKey", QUOTA)));
        })
        .onSuccess(f -> fb = f)
        .onComplete(ctx.succeedingThenComplete());
  }

  private HttpRequest<Buffer> post(String path, String key, String idempotencyKey) {
    HttpRequest<Buffer> req = fb.http.post(path).putHeader("Authorization", "Bearer " + key);
    return idempotencyKey == null ? req : req.putHeader("Idempotency-Key", idempotencyKey);
  }

  private Future<HttpResponse<Buffer>> crawl(String key, String idempotencyKey, JsonObject spec) {
    return post("/v1/crawls", key, idempotencyKey).sendJsonObject(spec);
  }

  private JsonObject spec(int maxDepth) {
    return new JsonObject().put("url", site.url("/p/0")).put("sitemap", "skip").put("maxDepth", maxDepth);
  }

  @Test
  @DisplayName("an Idempotency-Key reused with another body is a 422; the same body in another key order is the same job")
  void idempotencyKeyReusedWithAnotherBody(VertxTestContext ctx) {
    String reordered = "{\"maxDepth\": 0, \"sitemap\": \"skip\", \"url\": \"" + site.url("/p/0") + "\"}";
    crawl(A, "idem-1", spec(0))
        .compose(first -> crawl(A, "idem-1", spec(3))
            .compose(other -> post("/v1/crawls", A, "idem-1").putHeader("Content-Type", "application/json")
                .sendBuffer(Buffer.buffer(reordered))
                .compose(same -> TestDatabase.count(vertx, "SELECT count(*) FROM crawl_jobs").map(jobs -> {
                  ctx.verify(() -> {
                    assertThat(first.statusCode()).isEqualTo(202);
                    BadRequestTest.assertProblem(other, 422, "/problems/idempotency-key-reused");
                    assertThat(other.bodyAsJsonObject().getString("detail")).startsWith("Idempotency-Key: ")
                        .contains("idem-1").contains("another request");
                    assertThat(same.statusCode()).isEqualTo(202);
                    assertThat(same.bodyAsJsonObject().getString("id")).isEqualTo(first.bodyAsJsonObject().getString("id"));
                    assertThat(same.bodyAsJsonObject().getBoolean("created")).isFalse();
                    assertThat(jobs).isEqualTo(1);
                  });
                  return null;
                }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("an Idempotency-Key is scoped per endpoint and per API key: a batch never answers with a crawl, nor key b with key a's job")
  void idempotencyKeyScopedPerEndpointAndApiKey(VertxTestContext ctx) {
    JsonObject batch = new JsonObject().put("urls", new JsonArray().add(site.url("/p/1")));
    crawl(A, "idem-2", spec(0))
        .compose(crawl -> post("/v1/batches", A, "idem-2").sendJsonObject(batch)
            .compose(asBatch -> crawl(B, "idem-2", spec(0))
                .map(otherKey -> {
                  ctx.verify(() -> {
                    assertThat(crawl.statusCode()).isEqualTo(202);
                    assertThat(asBatch.statusCode()).isEqualTo(202);
                    assertThat(asBatch.bodyAsJsonObject().getString("kind")).isEqualTo("batch");
                    assertThat(asBatch.bodyAsJsonObject().getBoolean("created")).isTrue();
                    assertThat(otherKey.statusCode()).isEqualTo(202);
                    assertThat(otherKey.bodyAsJsonObject().getBoolean("created")).isTrue();
                    assertThat(List.of(crawl, asBatch, otherKey)).extracting(r -> r.bodyAsJsonObject().getString("id"))
                        .doesNotHaveDuplicates();
                  });
                  return null;
                })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a key may have limits.maxActiveJobsPerKey queued or running jobs: past it a 429 names the bound; other keys, retries and ended jobs are not held back")
  void activeJobQuota(VertxTestContext ctx) {
    site.hold(); // the jobs stay running
    crawl(A, "first", spec(3))
        .compose(first -> crawl(A, null, spec(3)).compose(second -> crawl(A, null, spec(3)))
            .compose(third -> crawl(A, null, spec(3)))
            .compose(refused -> crawl(B, null, spec(3))
                .compose(otherKey -> crawl(A, "first", spec(3))
                    .compose(retry -> fb.http.delete("/v1/crawls/" + first.bodyAsJsonObject().getString("id"))
                        .putHeader("Authorization", "Bearer " + A).send()
                        .compose(cancelled -> crawl(A, null, spec(3)))
                        .map(afterCancel -> {
                          ctx.verify(() -> {
                            assertThat(first.statusCode()).isEqualTo(202);
                            BadRequestTest.assertProblem(refused, 429, "/problems/too-many-jobs");
                            assertThat(refused.getHeader("Retry-After")).isNotNull();
                            assertThat(refused.bodyAsJsonObject().getString("detail"))
                                .contains("key a").contains(QUOTA + " active jobs").contains("limits.maxActiveJobsPerKey");
                            assertThat(otherKey.statusCode()).isEqualTo(202);
                            assertThat(retry.statusCode()).isEqualTo(202);
                            assertThat(retry.bodyAsJsonObject().getString("id")).isEqualTo(first.bodyAsJsonObject().getString("id"));
                            assertThat(afterCancel.statusCode()).isEqualTo(202);
                          });
                          return null;
                        })))))
        .onComplete(ar -> {
          site.release();
          ctx.succeedingThenComplete().handle(ar);
        });
  }

  @Test
  @DisplayName("a 202 for a crawl or a batch is application/json")
  void acceptedIsJson(VertxTestContext ctx) {
    crawl(A, null, spec(0))
        .compose(crawl -> post("/v1/batches", A, null).sendJsonObject(new JsonObject().put("urls", new JsonArray().add(site.url("/p/1"))))
            .map(batch -> {
              ctx.verify(() -> {
                for (HttpResponse<Buffer> accepted : List.of(crawl, batch)) {
                  assertThat(accepted.statusCode()).isEqualTo(202);
                  assertThat(accepted.getHeader("Content-Type")).isEqualTo("application/json");
                }
              });
              return null;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("job records mask the webhook URL's query values, and the password of an invalid batch URL")
  void credentialsInUrlsMasked(VertxTestContext ctx) {
    JsonObject hooked = spec(0).put("webhook", new JsonObject().put("url", "http://127.0.0.1:9/hook?token=hook-s3cret&v=2"));
    JsonObject batch = new JsonObject().put("urls", new JsonArray().add(site.url("/p/1")).add("http://user:pw-s3cret@example.com/"));
    crawl(A, null, hooked)
        .compose(accepted -> fb.http.get(accepted.getHeader("Location")).putHeader("Authorization", "Bearer " + A).send()
            .compose(status -> post("/v1/batches", A, null).sendJsonObject(batch)
                .compose(batched -> fb.http.get("/v1/batches/" + batched.bodyAsJsonObject().getString("id"))
                    .putHeader("Authorization", "Bearer " + A).send()
                    .map(batchStatus -> {
                      ctx.verify(() -> {
                        for (HttpResponse<Buffer> shown : List.of(accepted, status)) {
                          assertThat(shown.bodyAsString()).doesNotContain("hook-s3cret");
                          assertThat(shown.bodyAsJsonObject().getJsonObject("spec").getJsonObject("webhook").getString("url"))
                              .isEqualTo("http://127.0.0.1:9/hook?token=***&v=***");
                        }
                        for (HttpResponse<Buffer> shown : List.of(batched, batchStatus)) {
                          assertThat(shown.statusCode()).isEqualTo(shown == batched ? 202 : 200);
                          assertThat(shown.bodyAsString()).doesNotContain("pw-s3cret");
                        }
                        assertThat(batched.bodyAsJsonObject().getJsonArray("invalidUrls").getJsonObject(0).getString("url"))
                            .isEqualTo("http://***@example.com/");
                      });
                      return null;
                    }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a batch with no valid URL is a 400 giving each entry's reason, and makes no job")
  void batchWithoutValidUrl(VertxTestContext ctx) {
    JsonObject none = new JsonObject().put("urls", new JsonArray().add("not a url").add("ftp://example.com/"));
    post("/v1/batches", A, null).sendJsonObject(none)
        .compose(refused -> TestDatabase.count(vertx, "SELECT count(*) FROM crawl_jobs").map(jobs -> {
          ctx.verify(() -> {
            BadRequestTest.assertProblem(refused, 400, "/problems/invalid-request");
            assertThat(refused.bodyAsJsonObject().getString("detail")).startsWith("urls: no entry is a valid URL")
                .contains("urls[0]: ").contains("urls[1]: must use http or https");
            assertThat(jobs).isZero();
          });
          return null;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }
}
