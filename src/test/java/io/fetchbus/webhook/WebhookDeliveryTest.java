package io.fetchbus.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.Receiver;
import io.fetchbus.support.TestBase;
import io.vertx.core.Future;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@code fetchbus.webhook.deliver}: one guarded POST, as the crawl verticles ask the fetch verticles for it. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class WebhookDeliveryTest extends TestBase {
  private Receiver receiver;

  @BeforeEach
  void start(VertxTestContext ctx) {
    Receiver.start(vertx).onSuccess(r -> receiver = r).onComplete(ctx.succeedingThenComplete());
  }

  private Future<JsonObject> deliver(JsonObject overrides, JsonObject delivery) {
    return ServiceUnderTest.deploy(vertx, overrides)
        .compose(f -> vertx.eventBus().<JsonObject>request(Bus.WEBHOOK_DELIVER, delivery))
        .map(reply -> reply.body());
  }

  private static JsonObject guard(boolean allowPrivateNetworks) {
    return new JsonObject().put("fetch", new JsonObject().put("guard",
        new JsonObject().put("allowPrivateNetworks", allowPrivateNetworks)));
  }

  @Test
  @DisplayName("a delivery is one POST of the body's exact UTF-8 bytes, with the caller's headers, JSON content and the URL's host")
  void postsTheBody(VertxTestContext ctx) {
    String body = "{\"title\":\"Café – 東京\"}";
    deliver(new JsonObject(), new JsonObject().put("url", receiver.url("/hook?token=abc")).put("body", body)
            .put("headers", new JsonObject().put("Authorization", "Bearer t0k3n").put("X-Custom", "1")))
        .onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
          assertThat(reply.getInteger("status")).isEqualTo(204);
          assertThat(receiver.received()).hasSize(1);
          Receiver.Request req = receiver.received().get(0);
          assertThat(req.method()).isEqualTo("POST");
          assertThat(req.path()).isEqualTo("/hook");
          assertThat(req.body().getBytes()).isEqualTo(body.getBytes(StandardCharsets.UTF_8));
          assertThat(req.header("Content-Type")).isEqualTo("application/json");
          assertThat(req.header("Authorization")).isEqualTo("Bearer t0k3n");
          assertThat(req.header("X-Custom")).isEqualTo("1");
          assertThat(req.header("User-Agent")).startsWith("Fetchbus");
          assertThat(req.header("Host")).isEqualTo("127.0.0.1:" + receiver.port());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("the receiver's status is the answer, 5xx included; the sender decides what it means")
  void statusIsTheAnswer(VertxTestContext ctx) {
    receiver.answer(r -> 503);
    deliver(new JsonObject(), new JsonObject().put("url", receiver.url("/hook")).put("body", "{}"))
        .onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
          assertThat(reply.getInteger("status")).isEqualTo(503);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a redirect is not followed: its status is the answer and its target is never asked")
  void redirectNotFollowed(VertxTestContext ctx) {
    deliver(new JsonObject(), new JsonObject().put("url", receiver.url("/redirect")).put("body", "{}"))
        .onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
          assertThat(reply.getInteger("status")).isEqualTo(302);
          assertThat(receiver.received()).extracting(Receiver.Request::path).containsExactly("/redirect");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("an answer with a 1 MiB body still answers with its status")
  void longAnswerCut(VertxTestContext ctx) {
    deliver(new JsonObject(), new JsonObject().put("url", receiver.url("/big")).put("body", "{}"))
        .onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
          assertThat(reply.getInteger("status")).isEqualTo(500);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a destination the guard refuses fails with 403 destination-not-allowed and is never contacted")
  void refusedDestination(VertxTestContext ctx) {
    deliver(guard(false), new JsonObject().put("url", receiver.url("/hook")).put("body", "{}"))
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(((ReplyException) err).failureCode()).isEqualTo(403);
          assertThat(Failure.DESTINATION_NOT_ALLOWED.is(err)).isTrue();
          assertThat(receiver.received()).isEmpty();
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a receiver that never answers fails the delivery with 504 at its timeoutMs")
  void silentReceiverTimesOut(VertxTestContext ctx) {
    long started = System.nanoTime();
    deliver(new JsonObject(), new JsonObject().put("url", receiver.url("/hang")).put("body", "{}").put("timeoutMs", 300))
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(((ReplyException) err).failureCode()).isEqualTo(504);
          assertThat((System.nanoTime() - started) / 1_000_000).isLessThan(5_000);
          assertThat(receiver.received()).hasSize(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("headers that frame the request (Host, Transfer-Encoding) or carry a line break are refused with 400")
  void framingHeadersRefused(VertxTestContext ctx) {
    ServiceUnderTest.deploy(vertx, new JsonObject())
        .compose(f -> Future.all(failureCode(new JsonObject().put("Host", "internal.example")),
            failureCode(new JsonObject().put("Transfer-Encoding", "chunked")),
            failureCode(new JsonObject().put("X-A", "1\r\nX-B: 2"))))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          assertThat(all.<Integer>list()).containsExactly(400, 400, 400);
          assertThat(receiver.received()).isEmpty();
          ctx.completeNow();
        })));
  }

  /** The failure code of a delivery with these headers, or 0 when it succeeded. */
  private Future<Integer> failureCode(JsonObject headers) {
    return vertx.eventBus().request(Bus.WEBHOOK_DELIVER, new JsonObject().put("url", receiver.url("/hook"))
            .put("body", "{}").put("headers", headers))
        .map(reply -> 0)
        .otherwise(err -> ((ReplyException) err).failureCode());
  }
}
