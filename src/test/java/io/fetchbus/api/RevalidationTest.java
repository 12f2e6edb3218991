package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.Poll;
import io.fetchbus.support.Scrape;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.fetchbus.support.TestVertx;
import io.fetchbus.support.Upstream;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A stored copy older than maxAgeSeconds is revalidated with a conditional GET instead of fetched again. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class RevalidationTest extends TestBase {
  /** A second node with an empty memory cache, so that only the stored copy can answer. */
  private final Vertx cold = TestVertx.create();

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    deployWithUpstream(new JsonObject()).onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void closeCold(VertxTestContext ctx) {
    cold.close().onComplete(ctx.succeedingThenComplete());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"tagged", "dated"})
  @DisplayName("a 304 refreshes the stored copy's fetch time without storing the body again: revalidated true")
  void notModified(String name, VertxTestContext ctx) {
    String path = "/validated/" + name;
    JsonObject req = new JsonObject().put("url", up.url(path));
    fb.postFetch(req)
        .compose(first -> ServiceUnderTest.deploy(cold, new JsonObject())
            .compose(c -> c.postFetch(req.copy().put("maxAgeSeconds", 0)))
            .map(second -> List.of(first.bodyAsJsonObject(), second.bodyAsJsonObject().put("httpStatus", second.statusCode()))))
        .compose(r -> TestDatabase.count(vertx, "SELECT count(*) FROM pages").compose(pages ->
            TestDatabase.count(vertx, "SELECT count(*) FROM contents").map(contents -> {
              ctx.verify(() -> {
                JsonObject first = r.get(0);
                JsonObject second = r.get(1);
                assertThat(second.getInteger("httpStatus")).isEqualTo(200);
                assertThat(second.getBoolean("revalidated")).isTrue();
                assertThat(second.getLong("id")).isEqualTo(first.getLong("id"));
                assertThat(second.getInstant("fetchedAt")).isAfter(first.getInstant("fetchedAt"));
                assertThat(second.getInstant("revalidatedAt")).isNotNull();
                assertThat(up.hits("304 " + path)).isEqualTo(1);
                assertThat(up.hits(path)).isEqualTo(2);
                assertThat(pages).isEqualTo(1);
                assertThat(contents).isEqualTo(1);
              });
              return contents;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("GET /v1/pages/{id} answers from memory, and a revalidation by the store replaces the copy held there")
  void recordFollowsRevalidation(VertxTestContext ctx) {
    fb.postFetch(new JsonObject().put("url", up.url("/validated/held")))
        .compose(created -> {
          long id = created.bodyAsJsonObject().getLong("id");
          return fb.get("/v1/pages/" + id)
              .compose(held -> fb.get("/v1/pages/" + id).map(again -> List.of(held.bodyAsJsonObject(), again.bodyAsJsonObject())))
              .compose(before -> storeGets().compose(readsBefore ->
                  // What a conditional fetch's 304 does: the store moves the copy's times and publishes the record.
                  // The publication reaches the API's event loop at its own pace: the copy follows it shortly after.
                  vertx.eventBus().<JsonObject>request(Bus.PAGES_REVALIDATED, new JsonObject().put("id", id))
                      .compose(reply -> Poll.until(vertx, () -> fb.get("/v1/pages/" + id)
                          .map(read -> read.bodyAsJsonObject().getValue("revalidatedAt") != null)))
                      .compose(v -> fb.get("/v1/pages/" + id))
                      .compose(after -> storeGets().map(readsAfter -> {
                        ctx.verify(() -> {
                          assertThat(before.get(1)).isEqualTo(before.get(0));
                          assertThat(before.get(0).getValue("revalidatedAt")).isNull();
                          JsonObject now = after.bodyAsJsonObject();
                          assertThat(now.getInstant("revalidatedAt")).isNotNull();
                          assertThat(now.getInstant("fetchedAt")).isAfter(before.get(0).getInstant("fetchedAt"));
                          // Every read after the first two came from memory: the store was not asked for the page.
                          assertThat(readsAfter).isEqualTo(readsBefore);
                        });
                        return null;
                      }))));
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  /** Page reads the store has served on this node, from its event-bus metrics. */
  private io.vertx.core.Future<Double> storeGets() {
    return fb.get("/metrics").map(resp -> Scrape.parse(resp.bodyAsString())
        .value("vertx_eventbus_delivered_total", "address", "fetchbus.pages.get", "side", "local"));
  }

  @Test
  @DisplayName("validators are not a REST option: a client's ifNoneMatch is refused as an unknown field, nothing fetched")
  void restRefusesValidators(VertxTestContext ctx) {
    fb.postFetch(new JsonObject().put("url", up.url("/validated/client")).put("ifNoneMatch", "\"client-v1\""))
        .onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
          BadRequestTest.assertProblem(resp, 400, "/problems/invalid-request");
          assertThat(resp.bodyAsJsonObject().getString("detail")).startsWith("ifNoneMatch: is not a known field");
          assertThat(up.hits("/validated/client")).isZero();
          assertThat(up.hits("304 /validated/client")).isZero();
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a copy without validators is simply fetched again")
  void noValidators(VertxTestContext ctx) {
    JsonObject req = new JsonObject().put("url", up.url("/page/plain"));
    fb.postFetch(req)
        .compose(first -> ServiceUnderTest.deploy(cold, new JsonObject()).compose(c -> c.postFetch(req.copy().put("maxAgeSeconds", 0))))
        .onComplete(ctx.succeeding(second -> ctx.verify(() -> {
          assertThat(second.statusCode()).isEqualTo(201);
          assertThat(second.bodyAsJsonObject().containsKey("revalidated")).isFalse();
          assertThat(up.hits("/page/plain")).isEqualTo(2);
          ctx.completeNow();
        })));
  }
}
