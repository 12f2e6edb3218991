package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestSite;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
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

/**
 * {@code POST /v1/map} against a generated site whose robots.txt names a sitemap index and which has a
 * {@code /sitemap.xml} too: the URLs of the site from its first page and its sitemaps, nothing stored.
 */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class MapEndpointTest extends TestBase {
  private TestSite site;

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    TestSite.start(vertx, 30)
        .compose(s -> {
          site = s;
          return ServiceUnderTest.fresh(vertx, new JsonObject());
        })
        .onSuccess(f -> fb = f)
        .onComplete(ctx.succeedingThenComplete());
  }

  private Future<HttpResponse<Buffer>> map(JsonObject body) {
    return fb.http.post("/v1/map").timeout(45_000).sendJsonObject(body);
  }

  private List<String> urls(String... paths) {
    return java.util.Arrays.stream(paths).map(site::url).toList();
  }

  @Test
  @DisplayName("the page's same-site links then the sitemaps' URLs answer, each once, and nothing is stored")
  void include(VertxTestContext ctx) {
    map(new JsonObject().put("url", site.url("/p/0")))
        .compose(resp -> fb.get("/v1/pages").map(pages -> {
          ctx.verify(() -> {
            assertThat(resp.statusCode()).as(resp.bodyAsString()).isEqualTo(200);
            JsonObject body = resp.bodyAsJsonObject();
            assertThat(body.getBoolean("success")).isTrue();
            // The other host (localhost) and the fragment and mailto links are not the site's; robots.txt rules what
            // is fetched, not what is listed. Sitemaps in the order they are read: the index's children come last.
            assertThat(body.getJsonArray("links").getList()).containsExactlyElementsOf(urls("/p/0", "/p/1", "/p/2",
                "/p/3", "/private/0", "/fail/0", "/orphan/3", "/p/29", "/orphan/1", "/orphan/2", "/private/99"));
            assertThat(site.hits("/p/0")).isEqualTo(1);
            assertThat(site.hits("/p/1")).isZero();
            assertThat(site.hits("/sitemap-orphans.xml")).isEqualTo(1);
            assertThat(pages.bodyAsJsonObject().getJsonArray("items")).isEmpty();
          });
          return resp;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("sitemap skip reads no sitemap; search keeps the URLs that contain it, ignoring case; limit cuts")
  void skipSearchLimit(VertxTestContext ctx) {
    map(new JsonObject().put("url", site.url("/p/0")).put("sitemap", "skip").put("search", "/P/"))
        .compose(all -> map(new JsonObject().put("url", site.url("/p/0")).put("sitemap", "skip").put("limit", 2))
            .map(limited -> {
              ctx.verify(() -> {
                assertThat(all.statusCode()).as(all.bodyAsString()).isEqualTo(200);
                assertThat(all.bodyAsJsonObject().getJsonArray("links").getList())
                    .containsExactlyElementsOf(urls("/p/0", "/p/1", "/p/2", "/p/3"));
                assertThat(limited.bodyAsJsonObject().getJsonArray("links").getList())
                    .containsExactlyElementsOf(urls("/p/0", "/p/1"));
                assertThat(site.hits("/robots.txt")).isEqualTo(1); // the fetch's robots check, once (cached)
                assertThat(site.hits("/sitemap.xml")).isZero();
                assertThat(site.hits("/sitemap-index.xml")).isZero();
              });
              return limited;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("Firecrawl v1's sitemapOnly lists the sitemaps' URLs without fetching the page; its SDK fields pass")
  void firecrawlSitemapOnly(VertxTestContext ctx) {
    map(new JsonObject().put("url", site.url("/p/0")).put("sitemapOnly", true).put("origin", "js-sdk@1.29.3")
        .put("useIndex", true).put("timeout", 30_000))
        .onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
          assertThat(resp.statusCode()).as(resp.bodyAsString()).isEqualTo(200);
          assertThat(resp.bodyAsJsonObject().getJsonArray("links").getList()).containsExactlyElementsOf(
              urls("/p/0", "/orphan/3", "/p/29", "/orphan/1", "/orphan/2", "/private/99"));
          assertThat(site.hits("/p/0")).isZero();
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a page robots.txt disallows is a 403 robots-disallowed; contradictory or unknown fields are a 400")
  void refusals(VertxTestContext ctx) {
    map(new JsonObject().put("url", site.url("/private/1")))
        .compose(robots -> map(new JsonObject().put("url", site.url("/p/0")).put("ignoreSitemap", true)
                .put("sitemapOnly", true))
            .compose(both -> map(new JsonObject().put("url", site.url("/p/0")).put("actions", new JsonArray()))
                .map(unknown -> {
                  ctx.verify(() -> {
                    assertThat(robots.statusCode()).as(robots.bodyAsString()).isEqualTo(403);
                    assertThat(robots.bodyAsJsonObject().getString("type")).endsWith("/robots-disallowed");
                    assertThat(both.statusCode()).isEqualTo(400);
                    assertThat(both.bodyAsJsonObject().getString("detail")).contains("sitemap");
                    assertThat(unknown.statusCode()).isEqualTo(400);
                    assertThat(site.hits("/private/1")).isZero();
                  });
                  return unknown;
                })))
        .onComplete(ctx.succeedingThenComplete());
  }
}
