package io.fetchbus.firecrawl;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.DocsSite;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.NodePackages;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestSite;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Firecrawl's own clients pointed at Fetchbus, which has an API key: its JavaScript SDK (npm {@code
 * @mendable/firecrawl-js}, 4.42.0 for v2 and 1.29.3 for v1) for scrape, map, crawl, batch scrape, cancel, errors
 * and the watcher, and its MCP server ({@code firecrawl-mcp} 3.26.0) spoken to over MCP by the MCP SDK's client.
 * They need Node.js 22, which {@code src/test/js/package.json} installs from npm ({@link NodePackages#node22}).
 */
@Timeout(value = 300, timeUnit = TimeUnit.SECONDS)
class FirecrawlSdkTest extends TestBase {
  private static final String KEY = "firecrawl-s3cret";
  /** More pages than one status page holds (100), so that the SDKs must follow next. */
  private static final int TREE = 130;
  private TestSite site;
  private TestSite tree;
  private DocsSite docs;

  /** Installs the clients and Node.js 22 as package-lock.json pins them, once per machine (npm ci needs the registry). */
  @BeforeAll
  static void installClients() throws IOException, InterruptedException {
    NodePackages.install();
  }

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    TestSite.start(vertx, 30)
        .compose(s -> {
          site = s;
          return TestSite.start(vertx, TREE);
        })
        .compose(t -> {
          tree = t;
          return DocsSite.start(vertx);
        })
        .compose(d -> {
          docs = d;
          return ServiceUnderTest.fresh(vertx, FirecrawlJobsTest.config().put("auth", new JsonObject()
              .put("keys", new JsonArray().add("fc:" + KEY))));
        })
        .onSuccess(f -> fb = f)
        .onComplete(ctx.succeedingThenComplete());
  }

  /** What a script printed last: one JSON object. On a worker thread: the script runs for seconds. */
  private Future<JsonObject> node(String script, String... args) {
    return vertx.executeBlocking(() -> {
      List<String> command = new ArrayList<>(List.of(NodePackages.node22().toString(), script));
      command.addAll(List.of(args));
      Process node = new ProcessBuilder(command).directory(NodePackages.DIR.resolve("firecrawl").toFile())
          .redirectErrorStream(true).start();
      String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (node.waitFor() != 0) {
        throw new AssertionError(script + " failed: " + out);
      }
      String last = out.strip().lines().reduce((a, b) -> b).orElse("");
      return new JsonObject(last);
    }, false);
  }

  /** What sdk.mjs printed: one entry per call, {@code {"ok", "value"}} or {@code {"ok": false, "message", "status"}}. */
  private Future<JsonObject> sdk(String key) {
    return node("sdk.mjs", "http://127.0.0.1:" + fb.port, key, site.url("/p/0"));
  }

  private static JsonObject value(JsonObject out, String call) {
    JsonObject entry = out.getJsonObject(call);
    assertThat(entry).as(call).isNotNull();
    assertThat(entry.getBoolean("ok")).as(call + ": " + entry.encode()).isTrue();
    return entry.getJsonObject("value");
  }

  private static Set<String> paths(JsonArray docs) {
    return docs.stream().map(d -> URI.create(((JsonObject) d).getString("sourceURL")).getPath())
        .collect(Collectors.toCollection(TreeSet::new));
  }

  @Test
  @DisplayName("with the key, both SDKs scrape the page's content and map the site; what Fetchbus does not do is their error")
  void sdkAgainstFetchbus(VertxTestContext ctx) {
    sdk(KEY).onComplete(ctx.succeeding(out -> ctx.verify(() -> {
      JsonObject scrape = out.getJsonObject("v2Scrape");
      assertThat(scrape.getBoolean("ok")).as(scrape.encode()).isTrue();
      JsonObject doc = scrape.getJsonObject("value");
      assertThat(doc.getString("markdown")).contains("Page 0").contains("Words of page 0.");
      assertThat(doc.getString("html")).contains("<h1>Page 0</h1>");
      assertThat(doc.getString("rawHtml")).isEqualTo(doc.getString("html"));
      assertThat(doc.getJsonArray("links").getList()).contains(site.url("/p/1"), site.url("/p/2"));
      JsonObject meta = doc.getJsonObject("metadata");
      assertThat(meta.getString("title")).isEqualTo("Page 0");
      assertThat(meta.getString("sourceURL")).isEqualTo(site.url("/p/0"));
      assertThat(meta.getString("url")).isEqualTo(site.url("/p/0"));
      assertThat(meta.getInteger("statusCode")).isEqualTo(200);
      assertThat(meta.getString("contentType")).startsWith("text/html");
      assertThat(meta.getString("cacheState")).isEqualTo("miss");

      JsonObject again = out.getJsonObject("v2ScrapeAgain");
      assertThat(again.getBoolean("ok")).as(again.encode()).isTrue();
      assertThat(again.getJsonObject("value").getJsonObject("metadata").getString("cacheState")).isEqualTo("hit");
      assertThat(again.getJsonObject("value").getString("markdown")).contains("Words of page 0.");

      JsonObject map = out.getJsonObject("v2Map");
      assertThat(map.getBoolean("ok")).as(map.encode()).isTrue();
      assertThat(map.getJsonObject("value").getJsonArray("links").stream().map(l -> ((JsonObject) l).getString("url")))
          .contains(site.url("/p/0"), site.url("/p/1"), site.url("/orphan/1"), site.url("/p/29"));

      JsonObject screenshot = out.getJsonObject("v2Screenshot");
      assertThat(screenshot.getBoolean("ok")).isFalse();
      assertThat(screenshot.getInteger("status")).isEqualTo(400);
      assertThat(screenshot.getString("message")).contains("Fetchbus does not run a browser").contains("screenshot");
      JsonObject cookie = out.getJsonObject("v2Cookie");
      assertThat(cookie.getInteger("status")).isEqualTo(400);
      assertThat(cookie.getString("message")).contains("Cookie").contains("credentials would leak");

      JsonObject v1 = out.getJsonObject("v1Scrape");
      assertThat(v1.getBoolean("ok")).as(v1.encode()).isTrue();
      assertThat(v1.getJsonObject("value").getString("markdown")).contains("Words of page 0.");
      assertThat(v1.getJsonObject("value").getJsonArray("links").getList()).contains(site.url("/p/3"));
      assertThat(v1.getJsonObject("value").getJsonObject("metadata").getInteger("statusCode")).isEqualTo(200);
      JsonObject v1Map = out.getJsonObject("v1Map");
      assertThat(v1Map.getBoolean("ok")).as(v1Map.encode()).isTrue();
      assertThat(v1Map.getJsonObject("value").getBoolean("success")).isTrue();
      assertThat(v1Map.getJsonObject("value").getJsonArray("links").getList())
          .contains(site.url("/p/0"), site.url("/p/1")).doesNotContain(site.url("/orphan/1")); // ignoreSitemap
      JsonObject actions = out.getJsonObject("v1Actions");
      assertThat(actions.getBoolean("ok")).isFalse();
      assertThat(actions.getString("message")).contains("Status code: 400")
          .contains("Fetchbus does not run a browser, so it cannot perform actions");
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("without the key, every SDK call is refused with 401, v2 and v1 alike, and nothing is fetched")
  void keyRequired(VertxTestContext ctx) {
    sdk("").onComplete(ctx.succeeding(out -> ctx.verify(() -> {
      for (String call : List.of("v2Scrape", "v2Map", "v2Screenshot")) {
        assertThat(out.getJsonObject(call).getBoolean("ok")).as(call).isFalse();
        assertThat(out.getJsonObject(call).getInteger("status")).as(call).isEqualTo(401);
        assertThat(out.getJsonObject(call).getString("message")).as(call).contains("API key");
      }
      for (String call : List.of("v1Scrape", "v1Map")) {
        assertThat(out.getJsonObject(call).getBoolean("ok")).as(call).isFalse();
        assertThat(out.getJsonObject(call).getString("message")).as(call).contains("401");
      }
      assertThat(site.hits("/p/0")).isZero();
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("both SDKs crawl (following next past 100 documents), batch scrape, cancel, read errors and watch a job "
      + "over the WebSocket; a refused option is the SDK's error with Fetchbus's reason")
  void jobs(VertxTestContext ctx) {
    node("jobs.mjs", "http://127.0.0.1:" + fb.port, KEY, docs.url("").replaceAll("/$", ""),
            tree.url("").replaceAll("/$", ""))
        .onComplete(ctx.succeeding(out -> ctx.verify(() -> {
          Set<String> treePages = new TreeSet<>();
          for (int i = 0; i < TREE; i++) {
            treePages.add("/p/" + i);
          }
          for (String crawl : List.of("v2Crawl", "v1Crawl")) {
            JsonObject job = value(out, crawl);
            assertThat(job.getString("status")).as(crawl).isEqualTo("completed");
            JsonArray data = job.getJsonArray("data");
            assertThat(data).as(crawl + ": every page once, across status pages").hasSize(TREE);
            assertThat(paths(data)).as(crawl).isEqualTo(treePages);
            JsonObject first = data.stream().map(d -> (JsonObject) d)
                .filter(d -> d.getString("sourceURL").endsWith("/p/7")).findFirst().orElseThrow();
            assertThat(first.getString("markdown")).as(crawl).contains("Words of page 7.");
            assertThat(first.getString("title")).isEqualTo("Page 7");
            assertThat(first.getInteger("statusCode")).isEqualTo(200);
          }
          JsonObject page = value(out, "v2StatusPage");
          assertThat(page.getInteger("data")).isEqualTo(JobRoutes.DEFAULT_PAGE);
          assertThat(page.getString("next")).startsWith("http://127.0.0.1:" + fb.port + "/v2/crawl/");
          assertThat(page.getInteger("completed")).isEqualTo(page.getInteger("total"));

          for (String batch : List.of("v2Batch", "v1Batch")) {
            JsonObject job = value(out, batch);
            assertThat(job.getString("status")).as(batch).isEqualTo("completed");
            assertThat(job.getJsonArray("data")).as(batch).hasSize(2);
            assertThat(job.getJsonArray("data").getJsonObject(0).getString("markdown")).as(batch)
                .contains("Words of Page /");
          }
          assertThat(paths(value(out, "v2Batch").getJsonArray("data"))).containsExactlyInAnyOrder("/docs/a", "/blog/x");
          assertThat(value(out, "v2Batch").getJsonArray("data").getJsonObject(0).getString("html")).contains("<h1>Page");
          assertThat(paths(value(out, "v1Batch").getJsonArray("data"))).containsExactlyInAnyOrder("/docs/a", "/docs/b");

          JsonObject v2Errors = value(out, "v2Errors").getJsonObject("errors");
          JsonObject v1Errors = value(out, "v1Errors").getJsonObject("errors");
          for (JsonObject errors : List.of(v2Errors, v1Errors)) {
            assertThat(errors.getJsonArray("robotsBlocked").getList()).containsExactly(docs.url("/private/secret"));
            assertThat(errors.getJsonArray("errors")).hasSize(1);
            assertThat(errors.getJsonArray("errors").getJsonObject(0).getString("url")).isEqualTo(docs.url("/gone"));
          }
          assertThat(paths(value(out, "v2Errors").getJsonObject("crawl").getJsonArray("data")))
              .containsExactlyInAnyOrder("/", "/about");

          assertThat(value(out, "v2Cancel")).isEqualTo(new JsonObject().put("cancelled", true).put("status", "cancelled"));
          JsonObject v1Cancel = value(out, "v1Cancel");
          assertThat(v1Cancel.getJsonObject("cancelled").getString("status")).isEqualTo("cancelled");
          assertThat(v1Cancel.getString("status")).isEqualTo("cancelled");

          Set<String> docsPages = new TreeSet<>(DocsSite.reachable("/docs/", p -> p.startsWith("/docs/")));
          docsPages.add("/docs/orphan");
          for (String watch : List.of("v2Watch", "v1Watch")) {
            JsonObject watched = value(out, watch);
            assertThat(watched.getString("kind")).as(watch + ": " + watched.encode()).isEqualTo("done");
            assertThat(watched.getJsonObject("final").getString("status")).as(watch).isEqualTo("completed");
            assertThat(paths(watched.getJsonArray("documents"))).as(watch).isEqualTo(docsPages);
            assertThat(watched.getJsonArray("documents").getJsonObject(0).getString("markdown")).contains("Words of");
          }

          JsonObject v2Refused = out.getJsonObject("v2Refused");
          assertThat(v2Refused.getBoolean("ok")).isFalse();
          assertThat(v2Refused.getInteger("status")).isEqualTo(400);
          assertThat(v2Refused.getString("message")).contains("delay: Fetchbus has no per-job delay");
          JsonObject v1Refused = out.getJsonObject("v1Refused");
          assertThat(v1Refused.getBoolean("ok")).isFalse();
          assertThat(v1Refused.getString("message")).contains("400").contains("takes no screenshots");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("firecrawl-mcp, with FIRECRAWL_API_URL set to Fetchbus, scrapes, maps and crawls through MCP")
  void mcp(VertxTestContext ctx) {
    node("mcp.mjs", "http://127.0.0.1:" + fb.port, KEY, docs.url("/docs/a"), docs.url("/docs/"))
        .onComplete(ctx.succeeding(out -> ctx.verify(() -> {
          assertThat(out.getString("error")).as(out.encodePrettily()).isNull();
          assertThat(out.getJsonObject("server").getString("name")).isNotBlank();
          assertThat(out.getJsonArray("tools").getList()).contains("firecrawl_scrape", "firecrawl_map", "firecrawl_crawl");
          JsonObject scrape = value(out, "firecrawl_scrape");
          assertThat(scrape.getString("markdown")).contains("Words of Page /docs/a.");
          assertThat(scrape.getJsonArray("links").getList()).contains(docs.url("/docs/a/deep/1"));
          assertThat(scrape.getJsonObject("metadata").getString("sourceURL")).isEqualTo(docs.url("/docs/a"));
          assertThat(scrape.getJsonObject("metadata").getInteger("statusCode")).isEqualTo(200);
          assertThat(value(out, "firecrawl_map").getJsonArray("links").stream()
              .map(l -> ((JsonObject) l).getString("url"))).contains(docs.url("/docs/a"), docs.url("/docs/a/deep/1"));
          JsonObject crawl = value(out, "firecrawl_crawl");
          assertThat(crawl.getString("status")).isEqualTo("completed");
          assertThat(crawl.getJsonArray("data").stream().map(d -> URI.create(((JsonObject) d).getJsonObject("metadata")
              .getString("sourceURL")).getPath())).contains("/docs/", "/docs/a", "/docs/b");
          assertThat(docs.hits("/docs/a")).isGreaterThanOrEqualTo(1);
          ctx.completeNow();
        })));
  }
}
