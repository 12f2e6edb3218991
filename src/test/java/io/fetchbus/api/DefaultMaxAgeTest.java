package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.fetchbus.support.Upstream;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@code fetch.defaultMaxAgeSeconds}: the maxAgeSeconds of a POST /v1/fetch that gives none. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class DefaultMaxAgeTest extends TestBase {
  @BeforeEach
  void start(VertxTestContext ctx) {
    Upstream.start(vertx).onSuccess(u -> up = u).onComplete(ctx.succeedingThenComplete());
  }

  private static JsonObject defaultMaxAge(long seconds) {
    return new JsonObject().put("fetch", new JsonObject().put("defaultMaxAgeSeconds", seconds));
  }

  @Test
  @DisplayName("with fetch.defaultMaxAgeSeconds set, a POST /v1/fetch without maxAgeSeconds reuses a copy that young: "
      + "200 with the same page, no fetch, no row")
  void defaultApplies(VertxTestContext ctx) {
    JsonObject req = new JsonObject().put("url", up.url("/page/default"));
    ServiceUnderTest.fresh(vertx, defaultMaxAge(3600))
        .compose(service -> service.postFetch(req).compose(first -> service.postFetch(req)
            .compose(second -> TestDatabase.count(vertx, "SELECT count(*) FROM pages").map(rows -> {
              ctx.verify(() -> {
                assertThat(first.statusCode()).isEqualTo(201);
                assertThat(second.statusCode()).isEqualTo(200);
                assertThat(second.bodyAsJsonObject().getLong("id")).isEqualTo(first.bodyAsJsonObject().getLong("id"));
                assertThat(second.bodyAsJsonObject().getBoolean("fromCache")).isTrue();
                assertThat(up.hits("/page/default")).isEqualTo(1);
                assertThat(rows).isEqualTo(1);
              });
              return rows;
            }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("by default (-1, none) every POST /v1/fetch without maxAgeSeconds fetches and stores, as it says")
  void noDefaultByDefault(VertxTestContext ctx) {
    JsonObject req = new JsonObject().put("url", up.url("/page/fresh"));
    ServiceUnderTest.fresh(vertx, new JsonObject())
        .compose(service -> service.postFetch(req).compose(first -> service.postFetch(req).map(second -> {
          ctx.verify(() -> {
            assertThat(first.statusCode()).isEqualTo(201);
            assertThat(second.statusCode()).isEqualTo(201);
            assertThat(up.hits("/page/fresh")).isEqualTo(2);
          });
          return second;
        })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a fetch.defaultMaxAgeSeconds below -1 refuses the start and names the key")
  void badValueRefusesStart(VertxTestContext ctx) {
    ServiceUnderTest.deploy(vertx, defaultMaxAge(-2))
        .transform(ar -> {
          ctx.verify(() -> {
            assertThat(ar.failed()).as("start refused").isTrue();
            assertThat(ar.cause().getMessage()).contains("fetch.defaultMaxAgeSeconds");
          });
          return Future.succeededFuture();
        })
        .onComplete(ctx.succeedingThenComplete());
  }
}
