package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.Upstream;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class PagesEndpointTest extends TestBase {

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    deployWithUpstream(new JsonObject()).onComplete(ctx.succeedingThenComplete());
  }

  /** Fetches /echo?n=0..count-1 one after the other, so ids grow in that order. */
  private Future<List<Long>> fetchEchoes(int count) {
    List<Long> ids = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < count; i++) {
      String url = up.url("/echo?n=" + i);
      chain = chain.compose(v -> fb.postFetch(new JsonObject().put("url", url))
          .map(resp -> {
            ids.add(resp.bodyAsJsonObject().getLong("id"));
            return null;
          }));
    }
    return chain.map(v -> ids);
  }

  @Test
  @DisplayName("GET /v1/pages lists newest first and pages through everything with the opaque next cursor")
  void keysetPagination(VertxTestContext ctx) {
    fetchEchoes(5)
        .compose(ids -> fb.get("/v1/pages?limit=2").compose(p1 -> {
          String next1 = p1.bodyAsJsonObject().getString("next");
          return fb.get("/v1/pages?limit=2&after=" + next1).compose(p2 -> {
            String next2 = p2.bodyAsJsonObject().getString("next");
            return fb.get("/v1/pages?limit=2&after=" + next2).map(p3 -> {
              ctx.verify(() -> {
                assertThat(idsOf(p1.bodyAsJsonObject())).containsExactly(ids.get(4), ids.get(3));
                assertThat(idsOf(p2.bodyAsJsonObject())).containsExactly(ids.get(2), ids.get(1));
                assertThat(idsOf(p3.bodyAsJsonObject())).containsExactly(ids.get(0));
                assertThat(p3.bodyAsJsonObject().getValue("next")).isNull();
                assertThat(next1).doesNotContain(String.valueOf(ids.get(3)));
              });
              return p3;
            });
          });
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("GET /v1/pages filters by url (canonical form) and by host, and defaults to 50 items")
  void filters(VertxTestContext ctx) {
    String url = up.url("/echo?n=1");
    // Same URL with an upper-case scheme and host and a fragment: the same canonical key.
    String variant = url.replace("http://127.0.0.1", "HTTP://127.0.0.1") + "#section";
    fetchEchoes(3)
        .compose(ids -> fb.get("/v1/pages?url=" + URLEncoder.encode(variant, StandardCharsets.UTF_8))
            .compose(byUrl -> fb.get("/v1/pages?host=127.0.0.1").compose(byHost ->
                fb.get("/v1/pages?host=example.org").map(none -> {
                  ctx.verify(() -> {
                    assertThat(idsOf(byUrl.bodyAsJsonObject())).containsExactly(ids.get(1));
                    assertThat(idsOf(byHost.bodyAsJsonObject())).hasSize(3);
                    assertThat(idsOf(none.bodyAsJsonObject())).isEmpty();
                  });
                  return none;
                }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("GET /v1/pages lists each URL's newest page by default, pages through them, and every copy with latest=false")
  void latestCopyByDefault(VertxTestContext ctx) {
    String a = up.url("/echo?n=a");
    String b = up.url("/echo?n=b");
    String byA = "/v1/pages?url=" + URLEncoder.encode(a, StandardCharsets.UTF_8);
    List<Long> ids = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (String url : List.of(a, b, a, a)) {
      chain = chain.compose(v -> fb.postFetch(new JsonObject().put("url", url)).map(resp -> {
        ids.add(resp.bodyAsJsonObject().getLong("id"));
        return null;
      }));
    }
    chain.compose(v -> Future.all(List.of(fb.get("/v1/pages"), fb.get("/v1/pages?latest=false"), fb.get(byA),
            fb.get(byA + "&latest=false"), fb.get("/v1/pages?latest=true&limit=1"), fb.get("/v1/pages?latest=maybe"))))
        .compose(all -> {
          String next = bodyOf(all.resultAt(4)).getString("next");
          return fb.get("/v1/pages?limit=1&after=" + next).map(second -> {
            ctx.verify(() -> {
              assertThat(idsOf(bodyOf(all.resultAt(0)))).containsExactly(ids.get(3), ids.get(1));
              assertThat(idsOf(bodyOf(all.resultAt(1)))).containsExactly(ids.get(3), ids.get(2), ids.get(1), ids.get(0));
              assertThat(idsOf(bodyOf(all.resultAt(2)))).containsExactly(ids.get(3));
              assertThat(idsOf(bodyOf(all.resultAt(3)))).containsExactly(ids.get(3), ids.get(2), ids.get(0));
              assertThat(idsOf(bodyOf(all.resultAt(4)))).containsExactly(ids.get(3));
              assertThat(idsOf(second.bodyAsJsonObject())).containsExactly(ids.get(1));
              assertThat(second.bodyAsJsonObject().getValue("next")).isNull();
              HttpResponse<Buffer> bad = all.resultAt(5);
              assertThat(bad.statusCode()).isEqualTo(400);
              assertThat(bad.bodyAsJsonObject().getString("detail")).startsWith("latest");
            });
            return second;
          });
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  private static JsonObject bodyOf(HttpResponse<Buffer> resp) {
    if (resp.statusCode() != 200) {
      throw new AssertionError("answered " + resp.statusCode() + ": " + resp.bodyAsString());
    }
    return resp.bodyAsJsonObject();
  }

  private static List<Long> idsOf(JsonObject listing) {
    JsonArray items = listing.getJsonArray("items");
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      ids.add(items.getJsonObject(i).getLong("id"));
    }
    return ids;
  }
}
