package io.fetchbus.bus;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.TestBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The codec of the pages' bodies on the bus: no copy within the JVM, Vert.x's own JSON between nodes. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class HandedOverJsonTest extends TestBase {
  private static JsonObject page() {
    return new JsonObject().put("url", "http://127.0.0.1/a").put("body", Buffer.buffer("<p>caf\u00e9</p>"))
        .put("headers", new JsonObject().put("etag", "\"x\"")).put("links", new JsonArray().add("http://127.0.0.1/b"));
  }

  @Test
  @DisplayName("a consumer of the same JVM gets the very object sent, where the default codec gives it a copy")
  void handsTheObjectOver(VertxTestContext ctx) {
    HandedOverJson.register(vertx);
    HandedOverJson.register(vertx); // every part of a node registers it: the second time changes nothing
    JsonObject sent = page();
    vertx.eventBus().<JsonObject>consumer("test.handed", msg -> msg.reply(msg.body() == sent));
    vertx.eventBus().<Boolean>request("test.handed", sent, HandedOverJson.handOver(new DeliveryOptions()))
        .compose(same -> {
          ctx.verify(() -> assertThat(same.body()).as("handed over").isTrue());
          return vertx.eventBus().<Boolean>request("test.handed", sent);
        })
        .onComplete(ctx.succeeding(copied -> ctx.verify(() -> {
          assertThat(copied.body()).as("default codec").isFalse();
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a message that may leave the JVM goes with Vert.x's own codec; other options are kept as they are")
  void neverOnTheWire() {
    DeliveryOptions handed = HandedOverJson.handOver(new DeliveryOptions().setSendTimeout(1234).addHeader("h", "v"));
    assertThat(handed.getCodecName()).isEqualTo(HandedOverJson.NAME);
    DeliveryOptions wire = HandedOverJson.forTheWire(handed);
    assertThat(wire.getCodecName()).isNull();
    assertThat(wire.getSendTimeout()).isEqualTo(1234);
    assertThat(wire.getHeaders().get("h")).isEqualTo("v");
    assertThat(handed.getCodecName()).as("the caller's options are not changed").isEqualTo(HandedOverJson.NAME);
    DeliveryOptions other = new DeliveryOptions().setCodecName("someone.elses");
    assertThat(HandedOverJson.forTheWire(other)).isSameAs(other);
  }

  @Test
  @DisplayName("a fetch's answer is handed over, yet a client that changes its headers leaves the cached ones alone")
  void cachedAnswersKeepTheirHeaders(VertxTestContext ctx) {
    var bus = vertx.eventBus();
    JsonObject again = new JsonObject().put("maxAgeSeconds", 600);
    deployWithUpstream(new JsonObject())
        .compose(v -> bus.<JsonObject>request(Bus.FETCH, new JsonObject().put("url", up.url("/page/handed"))))
        .compose(first -> {
          first.body().getJsonObject("headers").put("content-type", "changed/by-client");
          first.body().getJsonObject("timing").put("totalMs", -1);
          return bus.<JsonObject>request(Bus.FETCH, again.copy().put("url", up.url("/page/handed")));
        })
        .onComplete(ctx.succeeding(second -> ctx.verify(() -> {
          assertThat(second.body().getBoolean("fromCache")).isTrue();
          assertThat(second.body().getJsonObject("headers").getString("content-type")).startsWith("text/html");
          assertThat(second.body().getJsonObject("timing").getValue("totalMs")).isNotEqualTo(-1);
          assertThat(up.hits("/page/handed")).isEqualTo(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a node's interceptor lets it through to Fetchbus addresses as data")
  void passesTheInterceptor(VertxTestContext ctx) {
    deployWithUpstream(new JsonObject())
        .compose(v -> vertx.eventBus().<JsonObject>request(Bus.STORE_PING, new JsonObject(),
            HandedOverJson.handOver(new DeliveryOptions())))
        .onComplete(ctx.succeeding(pong -> ctx.verify(() -> {
          assertThat(pong.body()).isNotNull();
          ctx.completeNow();
        })));
  }
}
