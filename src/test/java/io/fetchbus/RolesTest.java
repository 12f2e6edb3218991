package io.fetchbus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fetchbus.bus.Bus;
import io.fetchbus.support.TestBase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A node runs the verticles of its roles only; the launcher turns --roles and -cluster into what Vert.x gets. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class RolesTest extends TestBase {

  @Test
  @DisplayName("a node with the store and fetch roles answers on their addresses, has no crawl, extraction or "
      + "HTTP API, and still stops in order")
  void onlyItsRoles(VertxTestContext ctx) {
    JsonObject config = io.fetchbus.support.ServiceUnderTest.config(new JsonObject())
        .put("roles", new JsonArray(List.of("store", "fetch")));
    var bus = vertx.eventBus();
    vertx.deployVerticle(new MainVerticle(Map.of()), new DeploymentOptions().setConfig(config))
        .compose(id -> bus.request(Bus.STORE_PING, new JsonObject()))
        .compose(ping -> bus.request(Bus.FETCH_CACHE_STATS, new JsonObject()))
        .compose(stats -> bus.request(Bus.CRAWL_SUBMIT, new JsonObject()).transform(crawl ->
            bus.request(Bus.EXTRACT, new JsonObject()).transform(extract -> {
              ctx.verify(() -> {
                assertThat(((ReplyException) crawl.cause()).failureType()).isEqualTo(ReplyFailure.NO_HANDLERS);
                assertThat(((ReplyException) extract.cause()).failureType()).isEqualTo(ReplyFailure.NO_HANDLERS);
                assertThat(vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_HTTP_PORT)).isNull();
                assertThat(vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_DEPLOYED)).isEqualTo(true);
              });
              return io.vertx.core.Future.succeededFuture();
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("with http.port 0, every API instance listens on the one port the node announces")
  void apiInstancesShareOnePort(VertxTestContext ctx) {
    JsonObject config = io.fetchbus.support.ServiceUnderTest.config(new JsonObject()
        .put("http", new JsonObject().put("port", 0).put("instances", 3)));
    vertx.deployVerticle(new MainVerticle(Map.of()), new DeploymentOptions().setConfig(config))
        .onComplete(ctx.succeeding(id -> ctx.verify(() -> {
          int announced = (Integer) vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_HTTP_PORT);
          // Vert.x keeps one server per address, which the instances that listen on it share (internal API).
          List<Integer> ports = ((io.vertx.core.internal.VertxInternal) vertx).sharedTcpServers().keySet().stream()
              .map(io.vertx.core.net.impl.ServerID::port).toList();
          assertThat(ports).containsExactly(announced);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("an unknown role stops the start, naming it")
  void unknownRole(VertxTestContext ctx) {
    JsonObject config = io.fetchbus.support.ServiceUnderTest.config(new JsonObject()).put("roles", new JsonArray().add("fetch").add("crawler"));
    vertx.deployVerticle(new MainVerticle(Map.of()), new DeploymentOptions().setConfig(config))
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(err.getMessage()).contains("'crawler'");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("--roles leaves the launcher's arguments (in both spellings), FETCHBUS_CLUSTER_ENABLED adds -cluster")
  void launchArguments() {
    Map<String, String> noFile = Map.of("FETCHBUS_CONFIG", "does/not/exist.json");
    Fetchbus.Arguments a = Fetchbus.Arguments.of(new String[] {"-cluster", "--roles", "fetch,extract", "-conf", "{}"}, noFile);
    assertThat(a.launcher()).containsExactly("-cluster", "-conf", "{}");
    assertThat(a.roles()).isEqualTo(new JsonArray(List.of("fetch", "extract")));
    assertThat(a.clustered()).isTrue();

    Fetchbus.Arguments b = Fetchbus.Arguments.of(new String[] {"-roles=api"}, Map.of("FETCHBUS_CONFIG", "does/not/exist.json",
        "FETCHBUS_CLUSTER_ENABLED", "true"));
    assertThat(b.launcher()).containsExactly("-cluster");
    assertThat(b.roles()).isEqualTo(new JsonArray(List.of("api")));

    Fetchbus.Arguments c = Fetchbus.Arguments.of(new String[0], noFile);
    assertThat(c.launcher()).isEmpty();
    assertThat(c.roles()).isNull();
    assertThat(c.clustered()).isFalse();
    assertThatThrownBy(() -> Fetchbus.Arguments.of(new String[] {"--roles"}, noFile)).hasMessageContaining("needs a value");
  }
}
