package io.fetchbus.firecrawl;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestSite;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The Firecrawl routes over plain HTTP: the API key guards /v2 as it guards /v1, and errors keep Firecrawl's shape. */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class FirecrawlRoutesTest extends TestBase {
  private static final String KEY = "routes-s3cret";
  private TestSite site;

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    TestSite.start(vertx, 30)
        .compose(s -> {
          site = s;
          return ServiceUnderTest.fresh(vertx, new JsonObject().put("auth", new JsonObject()
              .put("keys", new JsonArray().add("r:" + KEY))));
        })
        .onSuccess(f -> fb = f)
        .onComplete(ctx.succeedingThenComplete());
  }

  private Future<HttpResponse<Buffer>> send(HttpMethod method, String path, String key, String body) {
    var req = fb.http.request(method, path).timeout(30_000);
    if (key != null) {
      req.putHeader("Authorization", "Bearer " + key);
    }
    return body == null ? req.send() : req.putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer(body));
  }

  private static void firecrawlError(HttpResponse<Buffer> resp, int status, String text) {
    assertThat(resp.statusCode()).as(resp.bodyAsString()).isEqualTo(status);
    assertThat(resp.getHeader("Content-Type")).startsWith("application/json");
    JsonObject body = resp.bodyAsJsonObject();
    assertThat(body.getBoolean("success")).isFalse();
    assertThat(body.getString("error")).contains(text);
  }

  @Test
  @DisplayName("firecrawl-openapi.yaml describes every route FirecrawlRoutes mounts, with its methods, and no other")
  @SuppressWarnings("unchecked")
  void documentNamesTheRoutes() throws java.io.IOException {
    java.util.Map<String, Object> doc;
    try (var in = getClass().getClassLoader().getResourceAsStream("firecrawl-openapi.yaml")) {
      doc = new org.yaml.snakeyaml.Yaml(new org.yaml.snakeyaml.constructor.SafeConstructor(
          new org.yaml.snakeyaml.LoaderOptions())).load(in);
    }
    var pathItems = (java.util.Map<String, Object>) ((java.util.Map<String, Object>) doc.get("components")).get("pathItems");
    java.util.Set<String> documented = new java.util.TreeSet<>();
    ((java.util.Map<String, Object>) doc.get("paths")).forEach((path, value) -> {
      var item = (java.util.Map<String, Object>) value;
      if (item.get("$ref") instanceof String ref) {
        item = (java.util.Map<String, Object>) pathItems.get(ref.substring(ref.lastIndexOf('/') + 1));
      }
      item.keySet().stream().filter(k -> List.of("get", "post", "delete", "put", "patch").contains(k))
          .forEach(m -> documented.add(m.toUpperCase(java.util.Locale.ROOT) + " " + path.replace("{id}", ":id")));
    });
    io.vertx.ext.web.Router router = io.vertx.ext.web.Router.router(vertx);
    new FirecrawlRoutes(vertx, new FirecrawlRoutes.Api() {
      @Override
      public Future<JsonObject> fetch(io.vertx.ext.web.RoutingContext ctx, JsonObject body) {
        return Future.failedFuture("not in this test");
      }

      @Override
      public String keyName(io.vertx.ext.web.RoutingContext ctx) {
        return null;
      }

      @Override
      public String requestId(io.vertx.ext.web.RoutingContext ctx) {
        return null;
      }

      @Override
      public Runnable release(io.vertx.ext.web.RoutingContext ctx) {
        return () -> { };
      }
    }, io.fetchbus.config.ConfigLoader.loadNow(new JsonObject(), java.util.Map.of())).mount(router);
    java.util.Set<String> mounted = new java.util.TreeSet<>();
    router.getRoutes().stream().filter(r -> r.getPath() != null && r.methods() != null && !r.methods().isEmpty())
        .forEach(r -> r.methods().forEach(m -> mounted.add(m.name() + " " + r.getPath())));
    assertThat(documented).isEqualTo(mounted).contains("POST /v2/crawl", "GET /v1/batch/scrape/:id",
        "DELETE /v1/crawl/:id/errors");
  }

  @Test
  @DisplayName("every /v2 path and /v1/scrape without the key or with a wrong one is a 401 in Firecrawl's shape")
  void keyGuardsV2(VertxTestContext ctx) {
    String scrape = new JsonObject().put("url", site.url("/p/0")).encode();
    List<Future<HttpResponse<Buffer>>> answers = List.of(
        send(HttpMethod.POST, "/v2/scrape", null, scrape),
        send(HttpMethod.POST, "/v2/map", null, scrape),
        send(HttpMethod.GET, "/v2/crawl/123", null, null),
        send(HttpMethod.POST, "/v2//scrape", null, scrape),
        send(HttpMethod.POST, "/V2/scrape", null, scrape),
        send(HttpMethod.POST, "/v1/scrape", null, scrape),
        send(HttpMethod.POST, "/v2/scrape", "wrong", scrape));
    Future.all(answers).onComplete(ctx.succeeding(all -> ctx.verify(() -> {
      for (int i = 0; i < answers.size(); i++) {
        HttpResponse<Buffer> resp = answers.get(i).result();
        if (i == 4) {
          assertThat(resp.statusCode()).as("/V2 is not a route").isEqualTo(404);
        } else {
          firecrawlErrorOr401(resp);
        }
      }
      assertThat(site.hits("/p/0")).isZero();
      ctx.completeNow();
    })));
  }

  /** A 401: in Firecrawl's shape under /v2 and /v1/scrape. */
  private static void firecrawlErrorOr401(HttpResponse<Buffer> resp) {
    assertThat(resp.statusCode()).as(resp.bodyAsString()).isEqualTo(401);
    assertThat(resp.bodyAsJsonObject().getBoolean("success")).as(resp.bodyAsString()).isFalse();
    assertThat(resp.bodyAsJsonObject().getString("error")).contains("API key");
  }

  @Test
  @DisplayName("with the key: bad JSON, an unknown option and an unknown /v2 path are Firecrawl errors; a scrape works")
  void errorsAndScrape(VertxTestContext ctx) {
    send(HttpMethod.POST, "/v2/scrape", KEY, "{not json")
        .compose(badJson -> send(HttpMethod.POST, "/v1/scrape", KEY, "{\"url\": \"" + site.url("/p/0") + "\", \"colour\": 1}")
            .compose(unknown -> send(HttpMethod.POST, "/v2/extract", KEY, "{}")
                .compose(noSuchPath -> send(HttpMethod.POST, "/v2/scrape", KEY,
                        new JsonObject().put("url", site.url("/p/0")).put("formats", new JsonArray().add("links"))
                            .put("origin", "test").put("integration", "none").encode())
                    .map(ok -> {
                      ctx.verify(() -> {
                        firecrawlError(badJson, 400, "body: is not valid JSON");
                        firecrawlError(unknown, 400, "colour: not a scrape option");
                        firecrawlError(noSuchPath, 404, "Fetchbus does not serve POST /v2/extract");
                        assertThat(ok.statusCode()).as(ok.bodyAsString()).isEqualTo(200);
                        JsonObject data = ok.bodyAsJsonObject().getJsonObject("data");
                        assertThat(data.getJsonArray("links").getList()).contains(site.url("/p/1"));
                        assertThat(data.containsKey("markdown")).isFalse();
                        assertThat(data.getJsonObject("metadata").getString("title")).isEqualTo("Page 0");
                      });
                      return ok;
                    }))))
        .onComplete(ctx.succeedingThenComplete());
  }
}
