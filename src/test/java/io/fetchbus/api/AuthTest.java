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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** API keys, and the safe default: open only on loopback unless chosen explicitly. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class AuthTest extends TestBase {

  @BeforeEach
  void start(VertxTestContext ctx) {
    Upstream.start(vertx).onSuccess(u -> up = u).onComplete(ctx.succeedingThenComplete());
  }

  private Future<List<Integer>> statuses(Fetchbus service, String key) {
    var post = service.http.post("/v1/fetch");
    var list = service.http.get("/v1/pages");
    if (key != null) {
      post.putHeader("Authorization", "Bearer " + key);
      list.putHeader("Authorization", "Bearer " + key);
    }
    return post.sendJsonObject(new JsonObject().put("url", up.url("/page/auth")))
        .compose(p -> list.send().map(l -> List.of(p.statusCode(), l.statusCode())));
  }

  @Test
  @DisplayName("with keys configured, /v1 needs a valid Bearer key (401 problem+json otherwise); the probes stay open")
  void keysRequired(VertxTestContext ctx) {
    Fetchbus.fresh(vertx, new JsonObject().put("auth", new JsonObject().put("keys", new JsonArray().add("ci:s3cret-key"))))
        .compose(service -> service.http.post("/v1/fetch").sendJsonObject(new JsonObject().put("url", up.url("/page/auth")))
            .compose(none -> statuses(service, "wrong").compose(wrong -> statuses(service, "s3cret-key")
                .compose(right -> service.get("/health").map(health -> {
                  ctx.verify(() -> {
                    assertThat(none.statusCode()).isEqualTo(401);
                    assertThat(none.getHeader("WWW-Authenticate")).isEqualTo("Bearer realm=\"fetchbus\"");
                    assertThat(none.getHeader("Content-Type")).isEqualTo("application/problem+json");
                    assertThat(none.bodyAsJsonObject().getString("type")).isEqualTo("/problems/unauthorized");
                    assertThat(wrong).containsExactly(401, 401);
                    assertThat(right).containsExactly(201, 200);
                    assertThat(health.statusCode()).isEqualTo(200);
                    assertThat(up.hits("/page/auth")).isEqualTo(1);
                  });
                  return health;
                })))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("keys can come from a file of name:secret lines")
  void keysFile(VertxTestContext ctx) throws Exception {
    Path file = Files.createTempFile("fetchbus-keys", ".txt");
    Files.writeString(file, "# one key per line\nops:from-a-file\n");
    Fetchbus.fresh(vertx, new JsonObject().put("auth", new JsonObject().put("keysFile", file.toString())))
        .compose(service -> statuses(service, "from-a-file"))
        .onComplete(ctx.succeeding(s -> ctx.verify(() -> {
          assertThat(s).containsExactly(201, 200);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("keys configured but none valid (only comments) refuse the start, in a file or in auth.keys, on any address")
  void noValidKeyRefusesToStart(VertxTestContext ctx) throws Exception {
    Path comments = Files.createTempFile("fetchbus-keys", ".txt");
    Files.writeString(comments, "# the keys go here\n\n");
    JsonObject exposed = new JsonObject().put("host", "0.0.0.0");
    Fetchbus.deploy(vertx, new JsonObject().put("http", exposed).put("auth", new JsonObject().put("keysFile", comments.toString())))
        .transform(file -> Fetchbus.deploy(vertx, new JsonObject().put("http", exposed)
                .put("auth", new JsonObject().put("keys", new JsonArray().add("#x"))))
            .transform(env -> Fetchbus.deploy(vertx, new JsonObject().put("auth", new JsonObject().put("keys", new JsonArray().add("#x"))))
                .transform(loopback -> {
                  ctx.verify(() -> {
                    for (var refused : List.of(file, env, loopback)) {
                      assertThat(refused.failed()).as("start refused").isTrue();
                      assertThat(refused.cause().getMessage()).contains("none is a name:secret entry")
                          .contains("FETCHBUS_AUTH_DISABLED");
                    }
                    assertThat(file.cause().getMessage()).contains(comments.toString());
                  });
                  return Future.succeededFuture();
                })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("without keys the service refuses to listen beyond loopback, unless auth.disabled says so")
  void safeDefault(VertxTestContext ctx) {
    JsonObject exposed = new JsonObject().put("http", new JsonObject().put("host", "0.0.0.0"));
    Fetchbus.deploy(vertx, exposed)
        .onComplete(ctx.failing(refused -> ctx.verify(() -> {
          assertThat(refused.getMessage()).contains("not a loopback address").contains("FETCHBUS_AUTH_KEYS")
              .contains("FETCHBUS_AUTH_DISABLED");
          Fetchbus.deploy(vertx, exposed.copy().put("auth", new JsonObject().put("disabled", true)))
              .onComplete(ctx.succeeding(open -> ctx.completeNow()));
        })));
  }

  @Test
  @DisplayName("without keys the TCP bridge may not listen beyond loopback either")
  void bridgeSafeDefault(VertxTestContext ctx) {
    Fetchbus.deploy(vertx, new JsonObject().put("bridge", new JsonObject().put("enabled", true).put("host", "0.0.0.0")))
        .onComplete(ctx.failing(refused -> ctx.verify(() -> {
          assertThat(refused.getMessage()).contains("bridge.host is 0.0.0.0").contains("not a loopback address")
              .contains("FETCHBUS_AUTH_KEYS");
          ctx.completeNow();
        })));
  }
}
