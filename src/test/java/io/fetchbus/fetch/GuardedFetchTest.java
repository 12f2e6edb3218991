package io.fetchbus.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.Fetchbus;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestVertx;
import io.fetchbus.support.Upstream;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.dns.AddressResolverOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The destination guard as users meet it: through POST /v1/fetch, with the service's default guard settings. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class GuardedFetchTest extends TestBase {
  /** A second Vert.x whose resolver maps a test name to 127.0.0.1, as a hostile DNS answer would. */
  private final Vertx guarded = TestVertx.create(new VertxOptions().setAddressResolverOptions(
      new AddressResolverOptions().setHostsValue(Buffer.buffer("127.0.0.1 internal.test\n"))));
  private Upstream up;

  @BeforeEach
  void start(VertxTestContext ctx) {
    Upstream.start(vertx).onSuccess(u -> up = u).onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void closeGuarded(VertxTestContext ctx) {
    guarded.close().onComplete(ctx.succeedingThenComplete());
  }

  private static JsonObject guard(JsonObject settings) {
    return new JsonObject().put("fetch", new JsonObject().put("guard", settings));
  }

  private void expectRefused(Fetchbus fb, String url, String detail, VertxTestContext ctx) {
    fb.postFetch(new JsonObject().put("url", url))
        .compose(resp -> {
          ctx.verify(() -> {
            assertThat(resp.statusCode()).isEqualTo(403);
            assertThat(resp.getHeader("Content-Type")).isEqualTo("application/problem+json");
            assertThat(resp.bodyAsJsonObject().getString("type")).isEqualTo("/problems/destination-not-allowed");
            assertThat(resp.bodyAsJsonObject().getString("detail")).contains(detail).doesNotStartWith("destination-not-allowed");
          });
          return fb.get(resp.bodyAsJsonObject().getString("instance"));
        })
        .onComplete(ctx.succeeding(page -> ctx.verify(() -> {
          assertThat(page.bodyAsJsonObject().getString("error")).contains(detail);
          assertThat(up.hits("/page/secret")).isZero();
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("by default a name that resolves to a loopback address is refused with 403, recorded, and never contacted")
  void privateDestinationRefused(VertxTestContext ctx) {
    Fetchbus.deploy(guarded, guard(new JsonObject().put("allowPrivateNetworks", false)))
        .onComplete(ctx.succeeding(fb -> expectRefused(fb, "http://internal.test:" + up.port() + "/page/secret",
            "internal.test resolves to a refused address: 127.0.0.1 is not a public address", ctx)));
  }

  @Test
  @DisplayName("every redirect hop is checked: a redirect to the cloud metadata address is refused")
  void redirectHopChecked(VertxTestContext ctx) {
    Fetchbus.deploy(guarded, guard(new JsonObject().put("allowPrivateNetworks", false).put("allow",
            new io.vertx.core.json.JsonArray().add("127.0.0.1/32"))))
        .onComplete(ctx.succeeding(fb -> expectRefused(fb,
            up.url("/redirect-to?target=http://169.254.169.254/latest/meta-data/"), "169.254.169.254", ctx)));
  }

  @Test
  @DisplayName("the fetch connects to the address the guard checked but keeps the URL's host in the Host header")
  void hostHeaderKept(VertxTestContext ctx) {
    Fetchbus.deploy(guarded, guard(new JsonObject().put("allowPrivateNetworks", true)))
        .compose(fb -> fb.postFetch(new JsonObject().put("url", "http://internal.test:" + up.port() + "/host")))
        .onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
          assertThat(resp.statusCode()).isEqualTo(201);
          assertThat(resp.bodyAsJsonObject().getString("title")).isEqualTo("internal.test:" + up.port());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("the service never fetches itself, even when private networks are allowed")
  void ownPortRefused(VertxTestContext ctx) {
    Fetchbus.deploy(guarded, guard(new JsonObject().put("allowPrivateNetworks", true)))
        .onComplete(ctx.succeeding(fb -> expectRefused(fb, "http://127.0.0.1:" + fb.port + "/v1/pages",
            "is this service itself", ctx)));
  }
}
