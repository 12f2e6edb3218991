package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.TestBase;
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

/** The content formats through REST: extracted once when stored, served on request. */
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
