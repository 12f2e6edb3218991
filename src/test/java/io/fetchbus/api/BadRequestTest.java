package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.Upstream;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class BadRequestTest extends TestBase {

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    deployWithUpstream(new JsonObject()).onComplete(ctx.succeedingThenComplete());
  }

  static Stream<Arguments> invalidFetchBodies() {
    return Stream.of(
        Arguments.of("{}", "url: is required"),
        Arguments.of("{\"url\": 42}", "url: must be a string"),
        Arguments.of("{\"url\": \"\"}", "url: must not be empty"),
        Arguments.of("{\"url\": \"/relative/path\"}", "url: must be an absolute http or https URL"),
        Arguments.of("{\"url\": \"ftp://example.com/file\"}", "url: must use http or https"),
        Arguments.of("{\"url\": \"javascript:alert(1)\"}", "url: must use http or https"),
        Arguments.of("{\"url\": \"http://" + "a".repeat(2050) + ".com/\"}", "url: is longer than 2048 characters"),
        Arguments.of("{\"url\": \"http://user:secret@example.com/\"}", "url: must not contain user information"),
        Arguments.of("{\"url\": \"http://example.com/a b\"}", "url: contains whitespace or a control character"),
        Arguments.of("{\"url\": \"http://example.com/a\\tb\"}", "url: contains whitespace or a control character"),
        Arguments.of("{\"url\": \"http://example.com/\\u0000\"}", "url: contains whitespace or a control character"),
        Arguments.of("{\"url\": \"http:///path-only\"}", "url: has no valid host"),
        Arguments.of("{\"url\": \"http://" + "\u00e9".repeat(70) + ".example/\"}", "url: is not a valid URL"),
        Arguments.of("{\"url\": \"http://example.com/" + "\u0436".repeat(400) + "\"}", "url: is longer than 2048 characters once percent-encoded"),
        Arguments.of("{\"url\": \"http://example.com:0/\"}", "url: has an invalid port (0)"),
        Arguments.of("{\"url\": \"http://[::1%25lo]/\"}", "url: has an IPv6 zone id"),
        Arguments.of("{\"url\": \"http://[fe80::1%eth0]:8080/\"}", "url: has an IPv6 zone id"),
        Arguments.of("{\"url\": \"http://example.com/a\\ud800b\"}", "url: contains an unpaired surrogate at index 20"),
        Arguments.of("{\"url\": \"http://example.com/a\\udc00\"}", "url: contains an unpaired surrogate at index 20"),
        Arguments.of("{\"url\": \"http://example.com/\", \"colour\": \"blue\"}",
            "colour: is not a known field (known: formats, maxAgeSeconds, maxConcurrency, obeyRobots, url)"),
        Arguments.of("{\"url\": \"http://example.com/\", \"onlyIfCached\": true}", "onlyIfCached: is not a known field"),
        Arguments.of("{\"url\": \"http://example.com/\", \"maxAgeSeconds\": -1}", "maxAgeSeconds: must be between"),
        Arguments.of("{\"url\": \"http://example.com/\", \"maxAgeSeconds\": \"soon\"}", "maxAgeSeconds: must be a whole number"),
        Arguments.of("{\"url\": \"http://example.com/\", \"maxAgeSeconds\": 1.5}", "maxAgeSeconds: must be a whole number"),
        Arguments.of("{\"url\": \"http://example.com/\", \"formats\": [\"pdf\"]}", "formats[0]: must be one of html, text, markdown, links, metadata; got 'pdf'"),
        Arguments.of("{\"url\": \"http://example.com/\", \"formats\": 3}", "formats: must be an array"),
        Arguments.of("{\"url\": \"http://example.com/\", \"obeyRobots\": \"no\"}", "obeyRobots: must be true or false"),
        Arguments.of("{\"url\": \"http://example.com/\", \"maxConcurrency\": 0}", "maxConcurrency: must be between 1"),
        Arguments.of("not json", "body: is not valid JSON"),
        Arguments.of("[\"http://example.com/\"]", "body: must be a JSON object"),
        Arguments.of("", "body: a JSON object is required"));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("invalidFetchBodies")
  @DisplayName("an invalid POST /v1/fetch body answers 400 problem+json naming the field")
  void invalidBody(String body, String detail, VertxTestContext ctx) {
    fb.http.post("/v1/fetch").putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer(body))
        .onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
          assertProblem(resp, 400, "/problems/invalid-request");
          assertThat(resp.bodyAsJsonObject().getString("detail")).startsWith(detail);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a request body over 64 KiB answers 413 problem+json")
  void bodyTooLarge(VertxTestContext ctx) {
    JsonObject big = new JsonObject().put("url", up.url("/page/x")).put("padding", "p".repeat(70_000));
    fb.postFetch(big).onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
      assertProblem(resp, 413, "/problems/too-large");
      assertThat(resp.bodyAsJsonObject().getString("detail")).contains("65536 bytes");
      assertThat(up.hits("/page/x")).isZero();
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("an unknown field is a 400 naming it on every endpoint that takes a body, and nothing is fetched")
  void unknownFieldsRefused(VertxTestContext ctx) {
    JsonObject crawl = new JsonObject().put("url", up.url("/page/extra")).put("colour", "blue");
    JsonObject batch = new JsonObject().put("urls", new io.vertx.core.json.JsonArray().add(up.url("/page/extra"))).put("colour", "blue");
    fb.postFetch(new JsonObject().put("url", up.url("/page/extra")).put("colour", "blue"))
        .compose(fetch -> fb.http.post("/v1/crawls").sendJsonObject(crawl)
            .compose(crawled -> fb.http.post("/v1/batches").sendJsonObject(batch).map(batched -> {
              ctx.verify(() -> {
                for (HttpResponse<Buffer> resp : java.util.List.of(fetch, crawled, batched)) {
                  assertProblem(resp, 400, "/problems/invalid-request");
                  assertThat(resp.bodyAsJsonObject().getString("detail")).startsWith("colour: is not a known field (known: ");
                }
                assertThat(up.hits("/page/extra")).isZero();
              });
              return null;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a body that is not valid UTF-8 (an overlong '.' that would climb to /secret) is a 400, and nothing is fetched")
  void invalidUtf8Refused(VertxTestContext ctx) {
    Buffer overlong = Buffer.buffer("{\"url\": \"" + up.url("/a/"))
        .appendBytes(new byte[] {(byte) 0xC0, (byte) 0xAE, (byte) 0xC0, (byte) 0xAE})
        .appendString("/secret/x\"}");
    Buffer encodedSurrogate = Buffer.buffer("{\"urls\": [\"" + up.url("/b/"))
        .appendBytes(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80})
        .appendString("\"]}");
    fb.http.post("/v1/fetch").putHeader("Content-Type", "application/json").sendBuffer(overlong)
        .compose(fetch -> fb.http.post("/v1/batches").sendBuffer(encodedSurrogate).map(batch -> {
          ctx.verify(() -> {
            assertProblem(fetch, 400, "/problems/invalid-request");
            assertThat(fetch.bodyAsJsonObject().getString("detail"))
                .isEqualTo("body: is not valid UTF-8 (byte " + (overlong.length() - 15) + ")");
            assertProblem(batch, 400, "/problems/invalid-request");
            assertThat(batch.bodyAsJsonObject().getString("detail")).startsWith("body: is not valid UTF-8");
            assertThat(up.hits("/secret/x")).isZero();
            assertThat(up.hits("/a/../secret/x")).isZero();
          });
          return null;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  static Stream<Arguments> invalidReads() {
    return Stream.of(
        Arguments.of("/v1/pages/abc", 400, "id: must be a positive whole number"),
        Arguments.of("/v1/pages/0", 400, "id: must be a positive whole number"),
        Arguments.of("/v1/pages/987654", 404, "there is no page 987654"),
        Arguments.of("/v1/pages/987654/content", 404, "there is no page 987654"),
        Arguments.of("/v1/pages?limit=0", 400, "limit: must be between 1 and 500"),
        Arguments.of("/v1/pages?limit=501", 400, "limit: must be between 1 and 500"),
        Arguments.of("/v1/pages?limit=ten", 400, "limit: must be a whole number"),
        Arguments.of("/v1/pages?after=not-a-cursor", 400, "after: is not a cursor"),
        Arguments.of("/v1/pages?url=ftp://x/", 400, "url: must use http or https"),
        Arguments.of("/v1/pages?host=a%00b", 400, "host: must not contain NUL characters"),
        Arguments.of("/v1/pages?jobId=42", 400, "jobId: must be a UUID"),
        Arguments.of("/v1/pages?limt=5", 400, "limt: is not a known parameter (known: after, formats, host, jobId, latest, limit, url)"),
        Arguments.of("/v1/cache?fresh=1", 400, "fresh: is not a known parameter (this operation takes none)"),
        Arguments.of("/v1/nothing-here", 404, "no resource at /v1/nothing-here"));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("invalidReads")
  @DisplayName("invalid or unknown reads answer problem+json with a precise detail")
  void invalidReads(String path, int status, String detail, VertxTestContext ctx) {
    fb.get(path).onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
      assertThat(resp.statusCode()).isEqualTo(status);
      assertThat(resp.getHeader("Content-Type")).isEqualTo("application/problem+json");
      assertThat(resp.bodyAsJsonObject().getString("detail")).startsWith(detail);
      ctx.completeNow();
    })));
  }

  static void assertProblem(HttpResponse<Buffer> resp, int status, String type) {
    assertThat(resp.statusCode()).isEqualTo(status);
    assertThat(resp.getHeader("Content-Type")).isEqualTo("application/problem+json");
    JsonObject problem = resp.bodyAsJsonObject();
    assertThat(problem.getString("type")).isEqualTo(type);
    assertThat(problem.getString("title")).isNotBlank();
    assertThat(problem.getInteger("status")).isEqualTo(status);
    assertThat(problem.getString("detail")).isNotBlank();
  }
}
