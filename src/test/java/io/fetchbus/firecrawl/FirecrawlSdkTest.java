package io.fetchbus.firecrawl;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.Fetchbus;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestSite;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Firecrawl's own JavaScript SDK (npm {@code @mendable/firecrawl-js}, 4.42.0 for v2 and 1.29.3 for v1, pinned in
 * {@code src/test/js/firecrawl}) pointed at Fetchbus, which has an API key: scrape, map, refusals and the key.
 * Both SDKs need Node.js 22, installed there as the devDependency {@code node}, so the machine's Node does not matter.
 */
@Timeout(value = 180, timeUnit = TimeUnit.SECONDS)
class FirecrawlSdkTest extends TestBase {
  private static final Path CLIENT = Path.of("src/test/js/firecrawl");
  private static final String KEY = "firecrawl-s3cret";
  private TestSite site;

  /** Installs the SDKs and Node 22 as package-lock.json pins them, once per machine (npm ci needs the npm registry). */
  @BeforeAll
  static void installSdk() throws IOException, InterruptedException {
    if (Files.isDirectory(CLIENT.resolve("node_modules/firecrawl-v2"))
        && Files.isExecutable(CLIENT.resolve("node_modules/.bin/node"))) {
      return;
    }
    Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(CLIENT.toFile())
        .redirectErrorStream(true).start();
    String out = new String(npm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (npm.waitFor() != 0) {
      throw new IllegalStateException("npm ci in " + CLIENT + " failed (it needs Node.js and the npm registry): " + out);
    }
  }

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    TestSite.start(vertx, 30)
        .compose(s -> {
          site = s;
          return Fetchbus.fresh(vertx, new JsonObject().put("auth", new JsonObject()
              .put("keys", new JsonArray().add("fc:" + KEY))));
        })
        .onSuccess(f -> fb = f)
        .onComplete(ctx.succeedingThenComplete());
  }

  /** What sdk.mjs printed: one entry per call, {@code {"ok", "value"}} or {@code {"ok": false, "message", "status"}}. */
  private Future<JsonObject> sdk(String key) {
    return vertx.executeBlocking(() -> {
      List<String> command = List.of(CLIENT.resolve("node_modules/.bin/node").toAbsolutePath().toString(), "sdk.mjs",
          "http://127.0.0.1:" + fb.port, key, site.url("/p/0"));
      Process node = new ProcessBuilder(command).directory(CLIENT.toFile()).redirectErrorStream(true).start();
      String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (node.waitFor() != 0) {
        throw new AssertionError("sdk.mjs failed: " + out);
      }
      String last = out.strip().lines().reduce((a, b) -> b).orElse("");
      return new JsonObject(last);
    }, false);
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
}
