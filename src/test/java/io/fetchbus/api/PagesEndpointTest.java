package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.Fetchbus;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.Upstream;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
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

  private static List<Long> idsOf(JsonObject listing) {
    JsonArray items = listing.getJsonArray("items");
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      ids.add(items.getJsonObject(i).getLong("id"));
    }
    return ids;
  }
}
