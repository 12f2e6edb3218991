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
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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

  private Future<List<Integer>> statuses(ServiceUnderTest service, String key) {
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
    ServiceUnderTest.fresh(vertx, new JsonObject().put("auth", new JsonObject().put("keys", new JsonArray().add("ci:s3cret-key"))))
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
  @DisplayName("after 10 wrong keys from one address it gets 429 with Retry-After, even with the right key; another address does not")
  void failedAuthenticationsThrottled(VertxTestContext ctx) {
    ServiceUnderTest.fresh(vertx, new JsonObject().put("auth", new JsonObject().put("keys", new JsonArray().add("ci:s3cret-key"))))
        .compose(service -> wrongKeys(service, 30, new ArrayList<>())
            .compose(wrong -> pages(service.http, "s3cret-key")
                .compose(rightButThrottled -> pages(fromOtherAddress(service), "s3cret-key")
                    .map(elsewhere -> {
                      ctx.verify(() -> {
                        assertThat(wrong.subList(0, 10)).extracting(r -> r.statusCode()).containsOnly(401);
                        assertThat(wrong.subList(10, 30)).extracting(r -> r.statusCode()).containsOnly(429);
                        HttpResponse<Buffer> throttled = wrong.get(29);
                        assertThat(throttled.getHeader("Content-Type")).isEqualTo("application/problem+json");
                        assertThat(throttled.bodyAsJsonObject().getString("type")).isEqualTo("/problems/too-many-auth-failures");
                        assertThat(throttled.bodyAsJsonObject().getString("detail")).contains("auth.maxFailures");
                        assertThat(Integer.parseInt(throttled.getHeader("Retry-After"))).isBetween(1, 60);
                        assertThat(rightButThrottled.statusCode()).isEqualTo(429);
                        assertThat(elsewhere.statusCode()).isEqualTo(200);
                      });
                      return null;
                    }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  private Future<List<HttpResponse<Buffer>>> wrongKeys(ServiceUnderTest service, int n, List<HttpResponse<Buffer>> acc) {
    if (acc.size() == n) {
      return Future.succeededFuture(acc);
    }
    return pages(service.http, "wrong-" + acc.size()).compose(resp -> {
      acc.add(resp);
      return wrongKeys(service, n, acc);
    });
  }

  private static Future<HttpResponse<Buffer>> pages(WebClient client, String key) {
    return client.get("/v1/pages").putHeader("Authorization", "Bearer " + key).send();
  }

  /** A client whose connections come from 127.0.0.2: another address of the loopback network. */
  private WebClient fromOtherAddress(ServiceUnderTest service) {
    return held(WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(service.port)
        .setLocalAddress("127.0.0.2")));
  }

  @Test
  @DisplayName("keys can come from a file of name:secret lines")
  void keysFile(VertxTestContext ctx) throws Exception {
    Path file = Files.createTempFile("fetchbus-keys", ".txt");
    Files.writeString(file, "# one key per line\nops:from-a-file\n");
    ServiceUnderTest.fresh(vertx, new JsonObject().put("auth", new JsonObject().put("keysFile", file.toString())))
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
    ServiceUnderTest.deploy(vertx, new JsonObject().put("http", exposed).put("auth", new JsonObject().put("keysFile", comments.toString())))
        .transform(file -> ServiceUnderTest.deploy(vertx, new JsonObject().put("http", exposed)
                .put("auth", new JsonObject().put("keys", new JsonArray().add("#x"))))
            .transform(env -> ServiceUnderTest.deploy(vertx, new JsonObject().put("auth", new JsonObject().put("keys", new JsonArray().add("#x"))))
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
    ServiceUnderTest.deploy(vertx, exposed)
        .onComplete(ctx.failing(refused -> ctx.verify(() -> {
          assertThat(refused.getMessage()).contains("not a loopback address").contains("FETCHBUS_AUTH_KEYS")
              .contains("FETCHBUS_AUTH_DISABLED");
          ServiceUnderTest.deploy(vertx, exposed.copy().put("auth", new JsonObject().put("disabled", true)))
              .onComplete(ctx.succeeding(open -> ctx.completeNow()));
        })));
  }

  @Test
  @DisplayName("without keys the TCP bridge may not listen beyond loopback either")
  void bridgeSafeDefault(VertxTestContext ctx) {
    ServiceUnderTest.deploy(vertx, new JsonObject().put("bridge", new JsonObject().put("enabled", true).put("host", "0.0.0.0")))
        .onComplete(ctx.failing(refused -> ctx.verify(() -> {
          assertThat(refused.getMessage()).contains("bridge.host is 0.0.0.0").contains("not a loopback address")
              .contains("FETCHBUS_AUTH_KEYS");
          ctx.completeNow();
        })));
  }
}
