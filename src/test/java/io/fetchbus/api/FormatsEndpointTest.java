package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.fetchbus.support.Upstream;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The content formats through REST: extracted once (markdown when first asked for), served on request. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class FormatsEndpointTest extends TestBase {

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    deployWithUpstream(new JsonObject()).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("POST /v1/fetch with formats answers metadata, text, markdown and links of the page")
  void allFormats(VertxTestContext ctx) {
    JsonObject req = new JsonObject().put("url", up.url("/rich"))
        .put("formats", new JsonArray().add("metadata").add("text").add("markdown").add("links").add("html"));
    fb.postFetch(req).onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
      assertThat(resp.statusCode()).isEqualTo(201);
      JsonObject page = resp.bodyAsJsonObject();
      JsonObject meta = page.getJsonObject("metadata");
      assertThat(meta.getString("title")).isEqualTo("Rich page");
      assertThat(meta.getString("description")).isEqualTo("A page with everything");
      assertThat(meta.getString("language")).isEqualTo("en");
      assertThat(meta.getString("canonicalUrl")).isEqualTo(up.url("/rich"));
      assertThat(meta.getJsonObject("openGraph").getString("title")).isEqualTo("Rich OG");
      assertThat(page.getString("text")).contains("Main heading", "First paragraph", "Second paragraph")
          .doesNotContain("Home menu", "tracking", "color: red", "Footer text");
      assertThat(page.getString("markdown")).contains("# Main heading").contains("[a link](")
          .doesNotContain("Home menu");
      assertThat(page.getJsonArray("links").stream().map(l -> ((JsonObject) l).getString("url")).toList())
          .contains(up.url("/page/one"), up.url("/home"))
          .noneMatch(u -> u.startsWith("mailto:") || u.contains("#"));
      assertThat(page.getString("html")).isEqualTo(Upstream.RICH);
      assertThat(page.getBoolean("fromCache")).isFalse();
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("another format can be read later without parsing again, and listings carry only metadata")
  void formatsLater(VertxTestContext ctx) {
    fb.postFetch(new JsonObject().put("url", up.url("/rich")))
        .compose(created -> fb.get(created.getHeader("Location") + "?formats=links,text")
            .compose(got -> fb.get("/v1/pages").map(list -> List.of(created, got, list))))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.get(0).bodyAsJsonObject().containsKey("text")).isFalse();
          assertThat(r.get(0).bodyAsJsonObject().getJsonObject("metadata").getString("title")).isEqualTo("Rich page");
          assertThat(r.get(1).bodyAsJsonObject().getJsonArray("links")).isNotEmpty();
          assertThat(r.get(1).bodyAsJsonObject().getString("text")).contains("First paragraph");
          JsonObject listed = r.get(2).bodyAsJsonObject().getJsonArray("items").getJsonObject(0);
          assertThat(listed.containsKey("text")).isFalse();
          assertThat(listed.getJsonObject("metadata").getString("description")).isEqualTo("A page with everything");
          assertThat(up.hits("/rich")).isEqualTo(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("markdown not asked for is not made when the page is stored; the first read that asks makes and keeps it")
  void markdownOnFirstRead(VertxTestContext ctx) {
    record Seen(long storedBefore, long storedAfter, JsonObject first, JsonObject second) {}
    String withMarkdown = "SELECT count(*) FROM pages WHERE markdown IS NOT NULL";
    fb.postFetch(new JsonObject().put("url", up.url("/rich")).put("formats", new JsonArray().add("text")))
        .compose(created -> TestDatabase.count(vertx, withMarkdown).compose(before ->
            fb.get(created.getHeader("Location") + "?formats=markdown,text").compose(first ->
                TestDatabase.count(vertx, withMarkdown).compose(after ->
                    fb.get(created.getHeader("Location") + "?formats=markdown").map(second ->
                        new Seen(before, after, first.bodyAsJsonObject(), second.bodyAsJsonObject()))))))
        .onComplete(ctx.succeeding(seen -> ctx.verify(() -> {
          assertThat(seen.storedBefore()).as("pages with markdown after a fetch that asked for text").isEqualTo(0L);
          assertThat(seen.storedAfter()).as("pages with markdown after the first read that asked for it").isEqualTo(1L);
          assertThat(seen.first().getString("markdown")).contains("# Main heading").contains("[a link](")
              .doesNotContain("Home menu");
          assertThat(seen.first().getString("text")).contains("First paragraph");
          assertThat(seen.second().getString("markdown")).isEqualTo(seen.first().getString("markdown"));
          assertThat(seen.second().containsKey("text")).isFalse();
          assertThat(up.hits("/rich")).as("made from the stored body, not fetched again").isEqualTo(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a page in windows-1252 announced only by its meta tag is decoded correctly")
  void metaCharset(VertxTestContext ctx) {
    fb.postFetch(new JsonObject().put("url", up.url("/latin")).put("formats", new JsonArray().add("text")))
        .onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
          assertThat(resp.bodyAsJsonObject().getString("title")).isEqualTo("Caf\u00e9 \u2013 cr\u00e8me");
          assertThat(resp.bodyAsJsonObject().getString("text")).contains("\u00e9t\u00e9");
          ctx.completeNow();
        })));
  }
}
