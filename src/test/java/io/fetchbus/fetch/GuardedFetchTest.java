package io.fetchbus.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.JobClient;
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

  private void expectRefused(ServiceUnderTest fb, String url, String detail, VertxTestContext ctx) {
    refused(fb, url, detail, null).onComplete(ctx.succeedingThenComplete());
  }

  /**
   * POSTs {@code url}: a 403 whose detail, like the page recorded for it, contains {@code detail} and never
   * {@code hidden} (where a name points).
   */
  private Future<Void> refused(ServiceUnderTest fb, String url, String detail, String hidden) {
    return fb.postFetch(new JsonObject().put("url", url))
        .compose(resp -> {
          assertThat(resp.statusCode()).as(resp.bodyAsString()).isEqualTo(403);
          assertThat(resp.getHeader("Content-Type")).isEqualTo("application/problem+json");
          assertThat(resp.bodyAsJsonObject().getString("type")).isEqualTo("/problems/destination-not-allowed");
          assertThat(resp.bodyAsJsonObject().getString("detail")).contains(detail).doesNotStartWith("destination-not-allowed");
          if (hidden != null) {
            assertThat(resp.bodyAsJsonObject().getString("detail")).doesNotContain(hidden);
          }
          return fb.get(resp.bodyAsJsonObject().getString("instance"));
        })
        .map(page -> {
          assertThat(page.bodyAsJsonObject().getString("error")).contains(detail);
          if (hidden != null) {
            assertThat(page.bodyAsJsonObject().getString("error")).doesNotContain(hidden);
          }
          assertThat(up.hits("/page/secret")).isZero();
          return null;
        });
  }

  @Test
  @DisplayName("by default a name that resolves to a loopback address is refused with 403, recorded, and never "
      + "contacted; the detail, in the answer, the page and a batch's errors, says it is refused, not where it points")
  void privateDestinationRefused(VertxTestContext ctx) {
    String url = "http://internal.test:" + up.port() + "/page/secret";
    String detail = "internal.test resolves to an address that is refused";
    ServiceUnderTest.deploy(guarded, guard(new JsonObject().put("allowPrivateNetworks", false)))
        .compose(fb -> refused(fb, url, detail, "127.0.0.1")
            .compose(v -> fb.http.post("/v1/batches").sendJsonObject(new JsonObject()
                .put("urls", new io.vertx.core.json.JsonArray().add(url))))
            .compose(resp -> JobClient.finished(fb, "/v1/batches/" + resp.bodyAsJsonObject().getString("id"))
                .compose(job -> JobClient.all(fb, "/v1/batches/" + job.getString("id") + "/errors"))))
        .onComplete(ctx.succeeding(errors -> ctx.verify(() -> {
          assertThat(errors).singleElement().satisfies(e -> {
            assertThat(e.getString("error")).contains(detail).doesNotContain("127.0.0.1");
            assertThat(e.getString("errorClass")).isEqualTo("destination-not-allowed");
          });
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("every redirect hop is checked: a redirect to the cloud metadata address is refused")
  void redirectHopChecked(VertxTestContext ctx) {
    ServiceUnderTest.deploy(guarded, guard(new JsonObject().put("allowPrivateNetworks", false).put("allow",
            new io.vertx.core.json.JsonArray().add("127.0.0.1/32"))))
        .onComplete(ctx.succeeding(fb -> expectRefused(fb,
            up.url("/redirect-to?target=http://169.254.169.254/latest/meta-data/"), "169.254.169.254", ctx)));
  }

  @Test
  @DisplayName("the fetch connects to the address the guard checked but keeps the URL's host in the Host header")
  void hostHeaderKept(VertxTestContext ctx) {
    ServiceUnderTest.deploy(guarded, guard(new JsonObject().put("allowPrivateNetworks", true)))
        .compose(fb -> fb.postFetch(new JsonObject().put("url", "http://internal.test:" + up.port() + "/host")))
        .onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
          assertThat(resp.statusCode()).isEqualTo(201);
          assertThat(resp.bodyAsJsonObject().getString("title")).isEqualTo("internal.test:" + up.port());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("the service never fetches its own API or bridge port, by address or by name, even when private "
      + "networks and loopback are allowed")
  void ownPortsRefused(VertxTestContext ctx) {
    JsonObject config = guard(new JsonObject().put("allowPrivateNetworks", true)
        .put("allow", new io.vertx.core.json.JsonArray().add("127.0.0.0/8")))
        .put("bridge", new JsonObject().put("enabled", true).put("port", 0));
    ServiceUnderTest.deploy(guarded, config).compose(fb -> {
      int bridge = (Integer) guarded.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_BRIDGE_PORT);
      String self = "is a port of this service itself";
      return refused(fb, "http://127.0.0.1:" + fb.port + "/v1/pages", self, null)
          .compose(v -> refused(fb, "http://127.0.0.1:" + bridge + "/", self, null))
          .compose(v -> refused(fb, "http://internal.test:" + bridge + "/", self, null))
          .compose(v -> refused(fb, "http://[::1]:" + bridge + "/", self, null));
    }).onComplete(ctx.succeedingThenComplete());
  }
}
