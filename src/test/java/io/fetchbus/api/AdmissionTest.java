package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.Upstream;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Overload protection: the per-key rate limit and the bound on requests in progress answer at once. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class AdmissionTest extends TestBase {

  @BeforeEach
  void start(VertxTestContext ctx) {
    Upstream.start(vertx).onSuccess(u -> up = u).onComplete(ctx.succeedingThenComplete());
  }

  private static JsonObject limits(JsonObject limits) {
    return new JsonObject().put("limits", limits);
  }

  @Test
  @DisplayName("past its burst a key is refused with 429 and Retry-After, while the probes still answer")
  void rateLimited(VertxTestContext ctx) {
    JsonObject keyed = limits(new JsonObject().put("ratePerSecond", 0.01).put("burst", 2))
        .put("auth", new JsonObject().put("keys", new JsonArray().add("ci:s3cret-key")));
    ServiceUnderTest.fresh(vertx, keyed)
        .compose(service -> pages(service).compose(a -> pages(service)
            .compose(b -> pages(service).compose(c -> service.get("/ready")
                .map(ready -> List.of(a, b, c, ready))))))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.get(0).statusCode()).isEqualTo(200);
          assertThat(r.get(1).statusCode()).isEqualTo(200);
          assertThat(r.get(2).statusCode()).isEqualTo(429);
          assertThat(r.get(2).getHeader("Retry-After")).isNotNull();
          assertThat(r.get(2).bodyAsJsonObject().getString("type")).isEqualTo("/problems/limited");
          assertThat(r.get(2).bodyAsJsonObject().getString("detail")).contains("limits.ratePerSecond");
          assertThat(r.get(3).statusCode()).isEqualTo(200);
          ctx.completeNow();
        })));
  }

  private static Future<HttpResponse<Buffer>> pages(ServiceUnderTest service) {
    return service.http.get("/v1/pages").putHeader("Authorization", "Bearer s3cret-key").send();
  }

  @Test
  @DisplayName("without keys, on loopback, the default limits do not throttle the local user: 600 requests at once, none refused")
  void localUserNotThrottled(VertxTestContext ctx) {
    ServiceUnderTest.fresh(vertx, limits(new JsonObject().put("ratePerSecond", 50.0).put("burst", 100)))
        .compose(service -> {
          List<Future<HttpResponse<Buffer>>> all = new ArrayList<>();
          for (int i = 0; i < 600; i++) {
            all.add(service.get("/v1/cluster"));
          }
          return Future.all(all).map(done -> all.stream().map(f -> f.result().statusCode()).toList());
        })
        .onComplete(ctx.succeeding(statuses -> ctx.verify(() -> {
          assertThat(statuses).hasSize(600).containsOnly(200);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("past limits.maxInFlightRequests a request is refused at once with 503, and served normally after")
  void inFlightBound(VertxTestContext ctx) {
    ServiceUnderTest.fresh(vertx, limits(new JsonObject().put("maxInFlightRequests", 1).put("ratePerSecond", 1000.0)))
        .compose(service -> {
          Future<HttpResponse<Buffer>> held = service.postFetch(new JsonObject().put("url", up.url("/gate/held")));
          Promise<HttpResponse<Buffer>> refused = Promise.promise();
          vertx.setPeriodic(0, 20, id -> {
            if (up.hits("/gate/held") == 1) {
              vertx.cancelTimer(id);
              service.get("/v1/pages").onComplete(refused);
            }
          });
          return refused.future().compose(busy -> {
            up.openGate();
            return held.compose(done -> service.get("/v1/pages")).map(after -> List.of(busy, after));
          });
        })
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.get(0).statusCode()).isEqualTo(503);
          assertThat(r.get(0).getHeader("Retry-After")).isNotNull();
          assertThat(r.get(0).bodyAsJsonObject().getString("detail")).contains("limits.maxInFlightRequests");
          assertThat(r.get(1).statusCode()).isEqualTo(200);
          ctx.completeNow();
        })));
  }
}
