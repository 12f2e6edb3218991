package io.fetchbus.bridge;

import static io.fetchbus.support.BridgeSocket.frame;
import static io.fetchbus.support.BridgeSocket.request;
import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import io.fetchbus.support.BridgeSocket;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.Upstream;
import io.vertx.core.Future;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The TCP event-bus bridge over real sockets: replies, failures, the allow-lists and API keys. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class BridgeTest extends TestBase {
  private static final String KEY = "bridge-s3cret";
  /** Every message put on the bus in this test's Vert.x, as it was sent. */
  private final List<Message<?>> sent = new CopyOnWriteArrayList<>();
  private BridgeSocket socket;

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    vertx.eventBus().addOutboundInterceptor(dc -> {
      sent.add(dc.message());
      dc.next();
    });
    deployWithUpstream(new JsonObject()
        .put("auth", new JsonObject().put("keys", new JsonArray().add("py:" + KEY)))
        .put("bridge", new JsonObject().put("enabled", true).put("port", 0)
            // the default inbound list, and the watch listing, whose key name the bridge sets
            .put("inbound", new JsonArray().add("fetchbus.fetch").add("fetchbus\\.crawl\\.(submit|status|cancel|list|errors)")
                .add("fetchbus.pages.get").add("fetchbus.pages.find").add(Bus.WATCHES_LIST))))
        .compose(v -> BridgeSocket.connect(vertx, (Integer) vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_BRIDGE_PORT)))
        .onSuccess(s -> socket = s)
        .onComplete(ctx.succeedingThenComplete());
  }

  /** Messages sent to {@code address} whose body has {@code field}. */
  private List<Message<?>> sentTo(String address, String field) {
    return sent.stream().filter(m -> address == null || address.equals(m.address()))
        .filter(m -> m.body() instanceof JsonObject body && body.containsKey(field)).toList();
  }

  @Test
  @DisplayName("a send with a replyAddress gets the reply as a message frame, and a failure as an err frame with its code")
  void requestReply(VertxTestContext ctx) {
    socket.write(request(Bus.FETCH, new JsonObject().put("url", up.url("/page/bridge")), "r-fetch", KEY))
        .write(request(Bus.PAGES_GET, new JsonObject().put("id", 424242), "r-missing", KEY));
    socket.to("r-fetch").compose(reply -> socket.to("r-missing").map(err -> {
      ctx.verify(() -> {
        assertThat(reply.getString("type")).isEqualTo("message");
        JsonObject result = reply.getJsonObject("body");
        assertThat(result.getInteger("status")).isEqualTo(200);
        assertThat(new String(result.getBinary("body"), java.nio.charset.StandardCharsets.UTF_8))
            .isEqualTo(Upstream.html("Page bridge"));
        assertThat(err.getString("type")).isEqualTo("err");
        assertThat(err.getInteger("failureCode")).isEqualTo(404);
        assertThat(err.getString("failureType")).isEqualTo("RECIPIENT_FAILURE");
        assertThat(err.getString("sourceAddress")).isEqualTo(Bus.PAGES_GET);
      });
      return err;
    })).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("internal addresses and addresses off the allow-lists are refused with 403 and nothing reaches the bus; "
      + "publishing to a Fetchbus address and subscribing to one it serves are refused too")
  void allowLists(VertxTestContext ctx) {
    List<String> refused = List.of(Bus.PAGES_SAVE, Bus.PAGES_REVALIDATED, Bus.FRONTIER_CLAIM, Bus.FRONTIER_COMPLETE,
        Bus.FRONTIER_REAP, Bus.JOBS_CREATE, Bus.JOBS_WEBHOOK, Bus.WEBHOOK_DELIVER, Bus.CRAWL_ENDED, Bus.CRAWL_PROGRESS,
        Bus.PAGES_SEARCH, Bus.EXTRACT, "fetchbus.crawl.submitx", "elsewhere");
    List<Future<JsonObject>> answers = new ArrayList<>();
    for (int i = 0; i < refused.size(); i++) {
      socket.write(request(refused.get(i), new JsonObject().put("probe", refused.get(i)), "r-" + i, KEY));
      answers.add(socket.to("r-" + i));
    }
    socket.write(frame("publish", Bus.FETCH, KEY).put("body", new JsonObject().put("probe", "publish")));
    answers.add(socket.next(f -> "err".equals(f.getString("type")) && Bus.FETCH.equals(f.getString("sourceAddress"))
        && !f.containsKey("address")));
    for (String address : List.of(Bus.FETCH, Bus.FRONTIER_CLAIM, Bus.PAGES_SAVE, Bus.CRAWL_ENDED)) {
      socket.write(frame("register", address, KEY));
      answers.add(socket.to(address));
    }
    Future.all(answers).compose(all -> socket.roundTrip()).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      for (Future<JsonObject> answer : answers) {
        JsonObject err = answer.result();
        assertThat(err.getString("type")).as(err.encode()).isEqualTo("err");
        assertThat(err.getInteger("failureCode")).as(err.encode()).isEqualTo(403);
        assertThat(err.getString("message")).startsWith("access_denied: ");
      }
      // Outbound interceptors run as a message is sent: a frame let through would be here by the pong.
      assertThat(sentTo(null, "probe")).isEmpty();
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("with keys configured, a frame without a key or with a wrong one is refused with 401; the key is never "
      + "passed on, and a crawl submission and a watch request carry the key's name, whatever the frame said")
  void apiKeys(VertxTestContext ctx) {
    socket.write(request(Bus.CRAWL_LIST, new JsonObject().put("limit", 5), "r-none", null))
        .write(request(Bus.CRAWL_LIST, new JsonObject().put("limit", 5), "r-wrong", "not-the-key"))
        .write(frame("register", Bus.CRAWL_PROGRESS, null))
        .write(request(Bus.CRAWL_LIST, new JsonObject().put("limit", 5), "r-key", KEY))
        .write(request(Bus.CRAWL_SUBMIT, new JsonObject().put("kind", "crawl").put("keyName", "someone-else")
            .put("spec", new JsonObject().put("url", up.url("/page/job")).put("maxDepth", 0).put("sitemap", "skip")),
            "r-submit", KEY))
        .write(request(Bus.WATCHES_LIST, new JsonObject().put("keyName", "someone-else"), "r-watches", KEY));
    Future.all(List.of(socket.to("r-none"), socket.to("r-wrong"), socket.to(Bus.CRAWL_PROGRESS), socket.to("r-key"),
            socket.to("r-submit"), socket.to("r-watches")))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          JsonObject none = all.resultAt(0);
          JsonObject wrong = all.resultAt(1);
          JsonObject register = all.resultAt(2);
          assertThat(none.getInteger("failureCode")).isEqualTo(401);
          assertThat(none.getString("message")).contains("needs an API key");
          assertThat(wrong.getInteger("failureCode")).isEqualTo(401);
          assertThat(wrong.getString("message")).contains("not valid");
          assertThat(register.getString("type")).isEqualTo("err");
          assertThat(register.getInteger("failureCode")).isEqualTo(401);
          assertThat(((JsonObject) all.resultAt(3)).getJsonObject("body").getJsonArray("items")).isNotNull();
          assertThat(((JsonObject) all.resultAt(4)).getJsonObject("body").getString("id")).isNotBlank();
          assertThat(sentTo(Bus.CRAWL_LIST, "limit")).as("only the frame with the key reached the bus").hasSize(1);
          assertThat(sentTo(Bus.CRAWL_SUBMIT, "kind")).singleElement()
              .satisfies(m -> assertThat(((JsonObject) m.body()).getString("keyName")).isEqualTo("py"));
          assertThat(((JsonObject) all.resultAt(5)).getJsonObject("body").getJsonArray("items")).isNotNull();
          assertThat(sentTo(Bus.WATCHES_LIST, "keyName")).singleElement()
              .satisfies(m -> assertThat(((JsonObject) m.body()).getString("keyName")).isEqualTo("py"));
          for (Message<?> m : sent) {
            for (Map.Entry<String, String> header : m.headers()) {
              assertThat(header.getKey()).isNotEqualToIgnoringCase("authorization");
              assertThat(header.getValue()).doesNotContain(KEY);
            }
          }
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a subscriber of fetchbus.page.stored gets each stored page as a message frame")
  void subscribe(VertxTestContext ctx) {
    socket.write(frame("register", Bus.PAGE_STORED, KEY));
    socket.roundTrip()
        .compose(v -> fb.http.post("/v1/fetch").putHeader("Authorization", "Bearer " + KEY)
            .sendJsonObject(new JsonObject().put("url", up.url("/page/stored"))))
        .compose(resp -> socket.to(Bus.PAGE_STORED).map(msg -> {
          ctx.verify(() -> {
            assertThat(resp.statusCode()).isEqualTo(201);
            assertThat(msg.getString("type")).isEqualTo("message");
            JsonObject page = msg.getJsonObject("body");
            assertThat(page.getLong("id")).isEqualTo(resp.bodyAsJsonObject().getLong("id"));
            assertThat(page.getString("title")).isEqualTo("Page stored");
          });
          return msg;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("malformed frames are refused with 400: a body that is not an object, a header that is not a string, "
      + "a codec")
  void malformed(VertxTestContext ctx) {
    socket.write(frame("send", Bus.CRAWL_LIST, KEY).put("body", "list please").put("replyAddress", "r-body"))
        .write(request(Bus.CRAWL_LIST, new JsonObject().put("limit", 5), "r-header", KEY).put("headers",
            new JsonObject().put("authorization", "Bearer " + KEY).put("x-request-id", 7)))
        .write(request(Bus.CRAWL_LIST, new JsonObject().put("limit", 5), "r-timeout", KEY).put("headers",
            new JsonObject().put("authorization", "Bearer " + KEY).put("timeout", "soon")))
        .write(request(Bus.CRAWL_LIST, new JsonObject().put("limit", 5), "r-codec", KEY).put("headers",
            new JsonObject().put("authorization", "Bearer " + KEY).put("codecName", "evil")));
    Future.all(List.of(socket.to("r-body"), socket.to("r-header"), socket.to("r-timeout"), socket.to("r-codec")))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          for (int i = 0; i < all.size(); i++) {
            JsonObject err = all.resultAt(i);
            assertThat(err.getInteger("failureCode")).as(err.encode()).isEqualTo(400);
            assertThat(err.getString("message")).startsWith("invalid-request: ");
          }
          assertThat(sentTo(Bus.CRAWL_LIST, "limit")).isEmpty();
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("after 10 wrong keys from one address its frames get 429, even with the right key; frames without a "
      + "key are not counted, and another address is served")
  void wrongKeysThrottled(VertxTestContext ctx) {
    JsonObject list = new JsonObject().put("limit", 1);
    List<Future<JsonObject>> none = new ArrayList<>();
    List<Future<JsonObject>> wrong = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      socket.write(request(Bus.CRAWL_LIST, list, "r-none-" + i, null));
      none.add(socket.to("r-none-" + i));
    }
    for (int i = 0; i < 12; i++) {
      socket.write(request(Bus.CRAWL_LIST, list, "r-wrong-" + i, "wrong-" + i));
      wrong.add(socket.to("r-wrong-" + i));
    }
    socket.write(request(Bus.CRAWL_LIST, list, "r-right", KEY));
    int port = (Integer) vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_BRIDGE_PORT);
    Future.all(none).compose(n -> Future.all(wrong)).compose(w -> socket.to("r-right"))
        .compose(right -> BridgeSocket.connect(vertx, port, "127.0.0.2")
            .compose(other -> other.write(request(Bus.CRAWL_LIST, list, "r-other", KEY)).to("r-other"))
            .map(other -> {
              ctx.verify(() -> {
                assertThat(none).extracting(f -> f.result().getInteger("failureCode")).containsOnly(401);
                assertThat(wrong.subList(0, 10)).extracting(f -> f.result().getInteger("failureCode")).containsOnly(401);
                assertThat(wrong.subList(10, 12)).extracting(f -> f.result().getInteger("failureCode")).containsOnly(429);
                assertThat(wrong.get(11).result().getString("message")).startsWith("too-many-auth-failures: ")
                    .contains("auth.maxFailures");
                assertThat(right.getString("type")).isEqualTo("err");
                assertThat(right.getInteger("failureCode")).isEqualTo(429);
                assertThat(other.getString("type")).isEqualTo("message");
                assertThat(sentTo(Bus.CRAWL_LIST, "limit")).as("only the other address's frame reached the bus").hasSize(1);
              });
              return other;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("wrong keys sent to the REST API count on the bridge too: an address has one budget per node")
  void oneBudgetWithTheApi(VertxTestContext ctx) {
    Future<Void> guesses = Future.succeededFuture();
    for (int i = 0; i < 10; i++) {
      String key = "wrong-" + i;
      guesses = guesses.compose(v -> fb.http.get("/v1/pages").putHeader("Authorization", "Bearer " + key).send()
          .map(resp -> {
            if (resp.statusCode() != 401) {
              throw new AssertionError("a wrong key answered " + resp.statusCode());
            }
            return null;
          }));
    }
    guesses.compose(v -> socket.write(request(Bus.CRAWL_LIST, new JsonObject().put("limit", 1), "r-right", KEY))
            .to("r-right"))
        .onComplete(ctx.succeeding(right -> ctx.verify(() -> {
          assertThat(right.getInteger("failureCode")).isEqualTo(429);
          ctx.completeNow();
        })));
  }
}
