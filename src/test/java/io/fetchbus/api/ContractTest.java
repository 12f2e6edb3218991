package io.fetchbus.api;

import io.fetchbus.api.contract.Contract;
import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract and the running service agree: the routes the router serves are exactly the operations of
 * openapi.yaml, the document is served as it is, and a request the document refuses is a 400 problem+json that
 * names the parameter or field. The service runs with an API key, so the key's reach is checked too.
 */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class ContractTest extends TestBase {
  private static final String KEY = "contract-s3cret";
  private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "options", "head", "patch", "trace");

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    ServiceUnderTest.fresh(vertx, new JsonObject().put("auth", new JsonObject().put("keys", new JsonArray().add("ct:" + KEY))))
        .onSuccess(f -> fb = f)
        .onComplete(ctx.succeedingThenComplete());
  }

  /** The document as the class path holds it. */
  static JsonObject document() throws IOException {
    try (InputStream in = ContractTest.class.getClassLoader().getResourceAsStream(Contract.RESOURCE)) {
      return Contract.parse(Buffer.buffer(in.readAllBytes()));
    }
  }

  /** {@code "GET /v1/pages/{id}"} for every operation of the document. */
  static Set<String> operations(JsonObject doc) {
    Set<String> out = new TreeSet<>();
    doc.getJsonObject("paths").forEach(path -> ((JsonObject) path.getValue()).fieldNames().stream()
        .filter(METHODS::contains)
        .forEach(method -> out.add(method.toUpperCase(Locale.ROOT) + " " + path.getKey())));
    return out;
  }

  private HttpRequest<Buffer> v1(HttpMethod method, String uri) {
    return fb.http.request(method, uri).putHeader("Authorization", "Bearer " + KEY);
  }

  @Test
  @DisplayName("every route the router serves is an operation of openapi.yaml, and every operation is served")
  void routesAreOperations(VertxTestContext ctx) throws IOException {
    JsonObject doc = document();
    Set<String> documented = operations(doc);
    JsonArray routes = (JsonArray) vertx.sharedData().getLocalMap(ApiVerticle.API).get(ApiVerticle.ROUTES);
    Set<String> served = new TreeSet<>();
    // The router writes path parameters as :id, the document as {id}.
    routes.forEach(r -> served.add(((String) r).replaceAll(":([A-Za-z0-9_]+)", "{$1}")));
    ctx.verify(() -> {
      assertThat(served).isEqualTo(documented);
      assertThat(documented).hasSize(37);
      List<String> ids = new ArrayList<>();
      doc.getJsonObject("paths").forEach(path -> ((JsonObject) path.getValue()).forEach(op -> {
        if (METHODS.contains(op.getKey())) {
          ids.add(((JsonObject) op.getValue()).getString("operationId"));
        }
      }));
      assertThat(ids).doesNotContainNull().doesNotHaveDuplicates().hasSize(documented.size());
    });
    // And served for real: no operation answers as an unknown route (404 "no resource") or a wrong method (405).
    List<Future<String>> answers = documented.stream().map(op -> {
      String[] parts = op.split(" ", 2);
      String path = parts[1].replace("{id}", parts[1].startsWith("/v1/pages") ? "1" : "00000000-0000-0000-0000-000000000000");
      return v1(HttpMethod.valueOf(parts[0]), path).timeout(10_000).send()
          .map(resp -> resp.statusCode() + " " + op + " " + resp.bodyAsString());
    }).toList();
    Future.all(answers).onComplete(ctx.succeeding(all -> ctx.verify(() -> {
      for (Future<String> answer : answers) {
        assertThat(answer.result()).doesNotStartWith("405").doesNotContain("no resource at");
      }
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("GET /openapi.yaml serves the document byte for byte, without an API key, like /health")
  void servesTheDocument(VertxTestContext ctx) throws IOException {
    byte[] file;
    try (InputStream in = getClass().getClassLoader().getResourceAsStream(Contract.RESOURCE)) {
      file = in.readAllBytes();
    }
    fb.get("/openapi.yaml").compose(yaml -> fb.get("/health").compose(health -> fb.get("/v1/pages").map(pages -> {
      ctx.verify(() -> {
        assertThat(yaml.statusCode()).isEqualTo(200);
        assertThat(yaml.getHeader("Content-Type")).startsWith("application/yaml");
        assertThat(yaml.bodyAsBuffer().getBytes()).isEqualTo(file);
        JsonObject doc = Contract.parse(yaml.bodyAsBuffer());
        assertThat(doc.getString("openapi")).startsWith("3.1");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(pages.statusCode()).isEqualTo(401);
      });
      return null;
    }))).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("every 4xx and 5xx of every operation is a problem+json Problem, and every operation has a summary")
  void errorsAreProblems() throws IOException {
    JsonObject doc = document();
    JsonObject shared = doc.getJsonObject("components").getJsonObject("responses");
    List<String> wrong = new ArrayList<>();
    doc.getJsonObject("paths").forEach(path -> ((JsonObject) path.getValue()).forEach(op -> {
      if (!METHODS.contains(op.getKey())) {
        return;
      }
      JsonObject operation = (JsonObject) op.getValue();
      if (operation.getString("summary") == null) {
        wrong.add(operation.getString("operationId") + " has no summary");
      }
      operation.getJsonObject("responses").forEach(r -> {
        if (r.getKey().compareTo("400") < 0) {
          return;
        }
        JsonObject response = (JsonObject) r.getValue();
        if (response.getString("$ref") != null) {
          response = shared.getJsonObject(response.getString("$ref").replace("#/components/responses/", ""));
        }
        JsonObject content = response.getJsonObject("content", new JsonObject());
        boolean problem = content.getJsonObject(Problems.MEDIA_TYPE) != null && "#/components/schemas/Problem"
            .equals(content.getJsonObject(Problems.MEDIA_TYPE).getJsonObject("schema").getString("$ref"));
        // The probes answer in vertx-health-check's own shape, with 503 as well as 200.
        if (!problem && !path.getKey().equals("/health") && !path.getKey().equals("/ready")) {
          wrong.add(op.getKey() + " " + path.getKey() + " " + r.getKey());
        }
      });
    }));
    assertThat(wrong).isEmpty();
  }

  static Stream<Arguments> refusals() {
    String webhookEvents = "{\"url\":\"http://example.com/\",\"webhook\":{\"url\":\"http://example.com/hook\",\"events\":[\"sometimes\"]}}";
    return Stream.of(
        Arguments.of("GET", "/v1/pages?limit=abc", null, 400, "limit: must be a whole number between 1 and 500"),
        Arguments.of("GET", "/v1/pages?limit=0", null, 400, "limit: must be between 1 and 500, got 0"),
        Arguments.of("GET", "/v1/pages/0", null, 400, "id: must be a positive whole number, got 0"),
        Arguments.of("GET", "/v1/pages/1?formats=links,pdf", null, 400,
            "formats[1]: must be one of html, text, markdown, links, metadata; got 'pdf'"),
        Arguments.of("GET", "/v1/search", null, 400, "q: is required"),
        Arguments.of("GET", "/v1/search?q=solar&jobId=nope", null, 400, "jobId: must be a UUID"),
        Arguments.of("GET", "/v1/crawls?status=nonsense", null, 400,
            "status: must be one of queued, running, completed, cancelled, failed; got 'nonsense'"),
        Arguments.of("GET", "/v1/batches?limit=101", null, 400, "limit: must be between 1 and 100, got 101"),
        Arguments.of("POST", "/v1/fetch", "{\"url\":\"http://example.com/\",\"maxConcurrency\":\"two\"}", 400,
            "maxConcurrency: must be a whole number between 1 and 1000"),
        Arguments.of("POST", "/v1/crawls", "{\"url\":\"http://example.com/\",\"maxdepth\":2}", 400,
            "maxdepth: is not a known field (known: allowExternalLinks, allowSubdomains, excludePaths, formats,"),
        Arguments.of("POST", "/v1/crawls", webhookEvents, 400,
            "webhook.events[0]: must be one of started, page, completed, failed; got 'sometimes'"),
        Arguments.of("POST", "/v1/crawls", "{\"url\":\"http://example.com/\",\"webhook\":{}}", 400, "webhook.url: is required"),
        Arguments.of("POST", "/v1/batches", "{\"urls\":[]}", 400, "urls: must not be empty"),
        Arguments.of("POST", "/v1/batches", "{\"urls\":[\"http://example.com/\"],\"obeyRobots\":1}", 400,
            "obeyRobots: must be true or false"),
        Arguments.of("POST", "/v1/batches", "{\"urls\":\"http://example.com/\"}", 400, "urls: must be an array"));
  }

  @ParameterizedTest(name = "{0} {1} {2} -> {4}")
  @MethodSource("refusals")
  @DisplayName("a request the document refuses answers problem+json naming the parameter or field")
  void refusedByTheContract(String method, String uri, String body, int status, String detail, VertxTestContext ctx) {
    HttpRequest<Buffer> req = v1(HttpMethod.valueOf(method), uri);
    Future<HttpResponse<Buffer>> sent = body == null ? req.send()
        : req.putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer(body));
    sent.onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
      BadRequestTest.assertProblem(resp, status, "/problems/invalid-request");
      assertThat(resp.bodyAsJsonObject().getString("detail")).startsWith(detail);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("a body sent as another media type is a 415; one without a Content-Type, or in capitals, is read as JSON")
  void mediaTypes(VertxTestContext ctx) {
    v1(HttpMethod.POST, "/v1/fetch").putHeader("Content-Type", "text/plain")
        .sendBuffer(Buffer.buffer("{\"url\":\"http://example.com/\"}"))
        .compose(plain -> v1(HttpMethod.POST, "/v1/crawls").sendBuffer(Buffer.buffer("{\"url\":42}"))
            .compose(bare -> v1(HttpMethod.POST, "/v1/batches").putHeader("Content-Type", "Application/JSON; Charset=UTF-8")
                .sendBuffer(Buffer.buffer("{\"urls\":7}")).map(upper -> {
          ctx.verify(() -> {
            BadRequestTest.assertProblem(plain, 415, "/problems/unsupported-media-type");
            assertThat(plain.bodyAsJsonObject().getString("detail"))
                .isEqualTo("Content-Type: must be application/json, got 'text/plain'");
            BadRequestTest.assertProblem(bare, 400, "/problems/invalid-request");
            assertThat(bare.bodyAsJsonObject().getString("detail")).isEqualTo("url: must be a string");
            BadRequestTest.assertProblem(upper, 400, "/problems/invalid-request");
            assertThat(upper.bodyAsJsonObject().getString("detail")).isEqualTo("urls: must be an array");
          });
          return null;
        })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("values are validated as the handlers read them: a search for 100% or \"C++\" or a phrase is not refused")
  void valuesAsGiven(VertxTestContext ctx) {
    List<String> queries = List.of("q=100%25", "q=C%2B%2B", "q=%22solar+panels%22+-wind", "q=tab%09and%C3%A9",
        "q=solar&host=Example.COM");
    Future.all(queries.stream().map(q -> v1(HttpMethod.GET, "/v1/search?" + q).send()).toList())
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          for (int i = 0; i < queries.size(); i++) {
            HttpResponse<Buffer> resp = all.resultAt(i);
            assertThat(resp.statusCode()).as(queries.get(i) + ": " + resp.bodyAsString()).isEqualTo(200);
            assertThat(resp.bodyAsJsonObject().getJsonArray("items")).isEmpty();
          }
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("unknown routes stay 404 and wrong methods 405, both problem+json; a huge body is a 413 before validation")
  void routingAndLimits(VertxTestContext ctx) {
    String huge = "{\"url\": 42, \"padding\": \"" + "p".repeat(70_000) + "\"}";
    v1(HttpMethod.GET, "/v1/nothing").send()
        .compose(missing -> v1(HttpMethod.PATCH, "/v1/pages").send()
            .compose(wrong -> v1(HttpMethod.POST, "/v1/crawls").putHeader("Content-Type", "application/json")
                .sendBuffer(Buffer.buffer(huge))
                .map(big -> {
                  ctx.verify(() -> {
                    BadRequestTest.assertProblem(missing, 404, "/problems/not-found");
                    BadRequestTest.assertProblem(wrong, 405, "/problems/405");
                    BadRequestTest.assertProblem(big, 413, "/problems/too-large");
                  });
                  return null;
                })))
        .onComplete(ctx.succeedingThenComplete());
  }
}
