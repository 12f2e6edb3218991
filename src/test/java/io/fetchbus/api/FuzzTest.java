package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.TestBase;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * 1,200 generated malformed requests (seeded, so a failure can be replayed): every answer is a 4xx
 * problem+json, never a 5xx and never a hang, and the service is ready afterwards.
 */
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class FuzzTest extends TestBase {
  private static final long SEED = 20261126L;
  private static final int REQUESTS = 1200;
  private static final int CONCURRENCY = 16;

  /** One generated request. */
  private record Probe(HttpMethod method, String path, String contentType, Buffer body) {
    @Override
    public String toString() {
      String shown = body == null ? "" : body.length() > 120 ? "<" + body.length() + " bytes>" : body.toString();
      return method + " " + (path.length() > 120 ? path.substring(0, 120) + "..." : path) + " [" + contentType + "] " + shown;
    }
  }

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    deployWithUpstream(new JsonObject()).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("every malformed request answers a 4xx problem+json, and the service is ready afterwards")
  void malformedRequests(VertxTestContext ctx) {
    Random random = new Random(SEED);
    List<Probe> probes = new ArrayList<>();
    for (int i = 0; i < REQUESTS; i++) {
      probes.add(probe(random));
    }
    List<String> bad = new ArrayList<>();
    Future<Void> all = Future.succeededFuture();
    for (int from = 0; from < probes.size(); from += CONCURRENCY) {
      List<Probe> batch = probes.subList(from, Math.min(from + CONCURRENCY, probes.size()));
      all = all.compose(v -> Future.join(batch.stream().map(p -> send(p).map(status -> {
        if (status < 400 || status > 499) {
          bad.add(status + " <- " + p);
        }
        return status;
      })).toList()).mapEmpty());
    }
    all.compose(v -> fb.get("/ready"))
        .onComplete(ctx.succeeding(ready -> ctx.verify(() -> {
          assertThat(bad).as("answers that were not a 4xx problem+json").isEmpty();
          assertThat(ready.statusCode()).isEqualTo(200);
          ctx.completeNow();
        })));
  }

  /** The status, or 600 when the answer was not problem+json (or, under /v2, Firecrawl's error). */
  private Future<Integer> send(Probe p) {
    var req = fb.http.request(p.method(), p.path());
    if (p.contentType() != null) {
      req.putHeader("Content-Type", p.contentType());
    }
    return (p.body() == null ? req.send() : req.sendBuffer(p.body()))
        .map(resp -> "application/problem+json".equals(resp.getHeader("Content-Type")) || firecrawlError(p, resp)
            ? resp.statusCode() : 600);
  }

  /** Under {@code /v2}, Firecrawl's namespace, an error is Firecrawl's {@code {"success": false, "error"}} instead. */
  private static boolean firecrawlError(Probe p, io.vertx.ext.web.client.HttpResponse<Buffer> resp) {
    if (!p.path().startsWith("/v2/") || !"application/json".equals(resp.getHeader("Content-Type"))) {
      return false;
    }
    JsonObject body = resp.bodyAsJsonObject();
    return Boolean.FALSE.equals(body.getBoolean("success")) && body.getString("error") != null;
  }

  private static Probe probe(Random r) {
    return switch (r.nextInt(6)) {
      case 0, 1, 2 -> new Probe(HttpMethod.POST, "/v1/fetch", contentType(r), fetchBody(r));
      case 3 -> new Probe(pick(r, HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.PATCH),
          "/" + pick(r, "x", "v2", "v1/nothing", "v1/pages/1/x", "%2e%2e", "v1//fetch") + "/" + garbage(r, 12, true), null, null);
      case 4 -> new Probe(pick(r, HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.PATCH),
          pick(r, "/v1/fetch", "/v1/pages", "/v1/pages/1"), contentType(r), Buffer.buffer("{}"));
      default -> new Probe(HttpMethod.GET, pagesQuery(r), null, null);
    };
  }

  private static Buffer fetchBody(Random r) {
    return switch (r.nextInt(10)) {
      case 0 -> randomBytes(r, 1 + r.nextInt(300)); // mostly invalid UTF-8 and not JSON
      case 1 -> Buffer.buffer("[".repeat(2000 + r.nextInt(3000))); // deep nesting, never closed
      case 2 -> Buffer.buffer("{\"a\":".repeat(1500) + "1" + "}".repeat(1500)); // deep but valid, and no url
      case 3 -> Buffer.buffer(new JsonObject().put("url", wrongType(r)).encode());
      case 4 -> Buffer.buffer(new JsonObject().put("url", badUrl(r)).encode());
      case 5 -> Buffer.buffer(new JsonObject().put("url", "http://example.com/" + "a".repeat(70_000)).encode()); // over 64 KiB
      case 6 -> Buffer.buffer(new JsonObject().put("url", "http://example.com/").put("maxAgeSeconds", pick(r,
          -1, "soon", 1.5, new JsonArray(), Long.MAX_VALUE)).encode());
      case 7 -> Buffer.buffer(new JsonObject().put("url", "http://example.com/").put("formats", pick(r,
          "pdf", 7, new JsonArray().add("text").add("nope"), new JsonObject())).encode());
      case 8 -> Buffer.buffer(new JsonObject().put("link", "http://example.com/").encode()); // no url
      default -> Buffer.buffer(pick(r, "", "null", "true", "42", "\"http://example.com/\"", "{", "{\"url\":", "}{"));
    };
  }

  private static Object wrongType(Random r) {
    return pick(r, 42, 3.14, true, new JsonArray().add("http://example.com/"), new JsonObject().put("href", "x"));
  }

  /** Strings that must never pass URL validation. */
  private static String badUrl(Random r) {
    return switch (r.nextInt(8)) {
      case 0 -> garbage(r, 1 + r.nextInt(40), false) + " " + garbage(r, 5, false); // always has a space
      case 1 -> pick(r, "ftp", "file", "javascript", "data", "gopher", "mailto") + ":" + garbage(r, 10, true);
      case 2 -> "/" + garbage(r, 20, true); // relative
      case 3 -> "http://user:pass@example.com/" + garbage(r, 5, true);
      case 4 -> "http://example.com/\u0000" + garbage(r, 5, true);
      case 5 -> "http://" + "x".repeat(2100) + ".com/";
      case 6 -> "";
      default -> "http:///" + garbage(r, 8, true); // no host
    };
  }

  private static String pagesQuery(Random r) {
    return switch (r.nextInt(5)) {
      case 0 -> "/v1/pages?limit=" + pick(r, "0", "-5", "501", "ten", "1e3", "99999999999999999999");
      case 1 -> "/v1/pages?after=" + garbage(r, 1 + r.nextInt(30), true);
      case 2 -> "/v1/pages?url=" + pick(r, "ftp%3A%2F%2Fx", "%2Frelative", "javascript%3Aalert(1)", "http%3A%2F%2F");
      case 3 -> "/v1/pages/" + pick(r, "abc", "0", "-1", "1.5", "99999999999999999999", "%00");
      default -> "/v1/pages/1/content" + pick(r, "x", "/more", "s");
    };
  }

  private static Buffer randomBytes(Random r, int n) {
    byte[] bytes = new byte[n];
    r.nextBytes(bytes);
    bytes[0] = (byte) 0xC3; // a UTF-8 lead byte...
    if (n > 1) {
      bytes[1] = (byte) 0x28; // ...followed by an invalid continuation
    }
    return Buffer.buffer(bytes);
  }

  private static String garbage(Random r, int n, boolean urlSafe) {
    String alphabet = urlSafe ? "abcdefghijklmnopqrstuvwxyz0123456789-_" : "abc<>\"{}|^`~!@#$%&*()=+[];',.?/\\ \t";
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return sb.toString();
  }

  private static String contentType(Random r) {
    return pick(r, "application/json", "text/plain", "application/x-www-form-urlencoded", null, "application/xml",
        "multipart/form-data; boundary=x", "application/json; charset=latin1");
  }

  @SafeVarargs
  private static <T> T pick(Random r, T... choices) {
    return choices[r.nextInt(choices.length)];
  }
}
