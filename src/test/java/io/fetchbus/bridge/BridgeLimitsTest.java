package io.fetchbus.bridge;

import static io.fetchbus.support.BridgeSocket.frame;
import static io.fetchbus.support.BridgeSocket.request;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.fetchbus.bus.Bus;
import io.fetchbus.support.BridgeSocket;
import io.fetchbus.support.TestBase;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * What an unauthenticated peer can make the bridge hold or write, over real sockets: frames are bounded before
 * they are buffered, connections are bounded, and junk is logged once per peer, sampled, without stack traces.
 */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class BridgeLimitsTest extends TestBase {
  private static final String KEY = "limits-s3cret";
  private static final int MAX_FRAME = 4096;
  private static final int MAX_CONNECTIONS = 40;
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  private int port;

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    logged.start();
    root.addAppender(logged);
    deployWithUpstream(new JsonObject()
        .put("auth", new JsonObject().put("keys", new JsonArray().add("py:" + KEY)))
        .put("bridge", new JsonObject().put("enabled", true).put("port", 0).put("maxFrameBytes", MAX_FRAME)
            .put("maxConnections", MAX_CONNECTIONS)
            .put("outbound", new JsonArray().add(Bus.PAGE_STORED).add("app\\.events\\.[0-9]+"))))
        .onSuccess(v -> port = (Integer) vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_BRIDGE_PORT))
        .onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void detach() {
    root.detachAppender(logged);
  }

  /** A length prefix announcing {@code length} bytes (unsigned, as the protocol reads it). */
  private static Buffer prefix(long length) {
    return Buffer.buffer().appendUnsignedInt(length);
  }

  @Test
  @DisplayName("a peer announcing a 2 GB frame is answered frame_too_large and disconnected at the prefix, before any "
      + "key check and without the bridge waiting for the frame; the bridge serves others as before")
  void hugeFrameRefusedAtItsPrefix(VertxTestContext ctx) {
    BridgeSocket.connect(vertx, port).compose(attacker -> {
      // Only the prefix and a little of the frame: a bridge that buffers first would wait here for 2 GB.
      attacker.writeRaw(prefix(2_000_000_000L).appendBytes(new byte[1024]));
      return attacker.closed().map(v -> attacker.pending());
    }).compose(frames -> BridgeSocket.connect(vertx, port).compose(client -> {
      client.write(request(Bus.CRAWL_LIST, new JsonObject().put("limit", 1), "r-after", KEY));
      return client.to("r-after").map(answer -> {
        ctx.verify(() -> {
          assertThat(frames).singleElement().satisfies(err -> {
            assertThat(err.getString("type")).isEqualTo("err");
            assertThat(err.getString("message")).startsWith("frame_too_large: ").contains("bridge.maxFrameBytes");
          });
          assertThat(answer.getString("type")).isEqualTo("message");
        });
        return answer;
      });
    })).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a frame of exactly bridge.maxFrameBytes is read and answered; one byte more ends the connection")
  void frameLimitIsExact(VertxTestContext ctx) {
    JsonObject atLimit = padded("r-at", MAX_FRAME);
    JsonObject overLimit = padded("r-over", MAX_FRAME + 1);
    BridgeSocket.connect(vertx, port).compose(client -> {
      client.write(atLimit);
      return client.to("r-at").compose(answer -> {
        client.write(overLimit);
        return client.closed().map(v -> {
          ctx.verify(() -> {
            assertThat(answer.getString("type")).as("a frame at the limit is read").isIn("message", "err");
            assertThat(answer.getString("sourceAddress", Bus.CRAWL_LIST)).isEqualTo(Bus.CRAWL_LIST);
            assertThat(client.pending()).singleElement()
                .satisfies(err -> assertThat(err.getString("message")).startsWith("frame_too_large: "));
          });
          return v;
        });
      });
    }).onComplete(ctx.succeedingThenComplete());
  }

  /** A keyed crawl-list request whose JSON is exactly {@code bytes} long. */
  private static JsonObject padded(String replyAddress, int bytes) {
    JsonObject req = request(Bus.CRAWL_LIST, new JsonObject().put("limit", 1).put("pad", ""), replyAddress, KEY);
    int base = req.encode().getBytes(StandardCharsets.UTF_8).length;
    req.getJsonObject("body").put("pad", "x".repeat(bytes - base));
    assertThat(req.encode().getBytes(StandardCharsets.UTF_8)).hasSize(bytes);
    return req;
  }

  @Test
  @DisplayName("past bridge.maxConnections a connection is refused with too_many_connections and closed; once one "
      + "closes, a new one is served")
  void connectionsBounded(VertxTestContext ctx) {
    List<Future<BridgeSocket>> held = new ArrayList<>();
    for (int i = 0; i < MAX_CONNECTIONS; i++) {
      held.add(BridgeSocket.connect(vertx, port));
    }
    // Each held connection answers a ping, so the bridge has counted all of them before the next one comes.
    Future.all(held.stream().map(f -> f.compose(s -> s.roundTrip())).toList())
        .compose(all -> BridgeSocket.connect(vertx, port))
        .compose(extra -> extra.closed().map(v -> extra.pending()))
        .compose(refused -> held.get(0).result().close()
            .compose(v -> connectWhenServed())
            .map(served -> {
              ctx.verify(() -> assertThat(refused).singleElement()
                  .satisfies(err -> assertThat(err.getString("message")).startsWith("too_many_connections: ")));
              return served;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  /** A connection that answers a ping: the bridge sees the close of another one a moment after the client does. */
  private Future<BridgeSocket> connectWhenServed() {
    return BridgeSocket.connect(vertx, port).compose(s -> s.roundTrip().map(s)
        .recover(refused -> connectWhenServed()));
  }

  @Test
  @DisplayName("a connection holds at most 64 subscriptions: the 65th register is refused with 429")
  void registrationsBounded(VertxTestContext ctx) {
    BridgeSocket.connect(vertx, port).compose(client -> {
      for (int i = 0; i <= BridgeConnection.MAX_REGISTRATIONS; i++) {
        client.write(frame("register", "app.events." + i, KEY));
      }
      return client.to("app.events." + BridgeConnection.MAX_REGISTRATIONS).compose(refused -> client.roundTrip().map(v -> {
        ctx.verify(() -> {
          assertThat(refused.getString("type")).isEqualTo("err");
          assertThat(refused.getInteger("failureCode")).isEqualTo(429);
          assertThat(client.pending()).as("the 64 before it were accepted silently").isEmpty();
        });
        return v;
      }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("junk from 30 unauthenticated peers: each is disconnected at its first bad frame, and the log gets at "
      + "most a few WARN lines, one per peer, without stack traces and no ERROR")
  void junkLoggedOncePerPeerAndSampled(VertxTestContext ctx) {
    int peers = 30;
    Buffer junk = Buffer.buffer();
    for (int i = 0; i < 3; i++) {
      byte[] notJson = ("{not json " + i + "}").getBytes(StandardCharsets.UTF_8);
      junk.appendInt(notJson.length).appendBytes(notJson);
    }
    List<Future<List<JsonObject>>> disconnected = new ArrayList<>();
    for (int i = 0; i < peers; i++) {
      disconnected.add(BridgeSocket.connect(vertx, port)
          .compose(peer -> peer.writeRaw(junk).closed().map(v -> peer.pending())));
    }
    Future.all(disconnected).onComplete(ctx.succeeding(all -> ctx.verify(() -> {
      for (Future<List<JsonObject>> peer : disconnected) {
        assertThat(peer.result()).as("one err frame per peer: the first bad frame ends the connection")
            .singleElement().satisfies(err -> assertThat(err.getString("message")).startsWith("invalid_frame: "));
      }
      List<ILoggingEvent> events = List.copyOf(logged.list);
      assertThat(events).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.ERROR)).isEmpty();
      List<ILoggingEvent> peerLines = events.stream()
          .filter(e -> e.getFormattedMessage().startsWith("bridge peer ")).toList();
      assertThat(peerLines).as("sampled: at most 10 lines a minute").hasSizeBetween(1, 10);
      for (ILoggingEvent e : peerLines) {
        assertThat(e.getLevel()).isEqualTo(Level.WARN);
        assertThat(e.getThrowableProxy()).isNull();
        assertThat(e.getFormattedMessage()).hasSizeLessThan(300).contains("not a JSON object");
      }
      ctx.completeNow();
    })));
  }
}
