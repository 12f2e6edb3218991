package io.fetchbus;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@code vertx.eventLoops}: one event loop per core unless told otherwise; an API and a fetch instance per loop. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class EventLoopsTest extends TestBase {
  EventLoopsTest() {
    super(new VertxOptions().setEventLoopPoolSize(3));
  }

  private static JsonObject eventLoops(int n) {
    return new JsonObject().put("vertx", new JsonObject().put("eventLoops", n));
  }

  @Test
  @DisplayName("0 is one loop per core, or what -options gave; a number is that many loops")
  void chosenWhenVertxIsBuilt() {
    int cores = VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE / 2; // as Vert.x counts them
    VertxOptions defaults = new VertxOptions();
    EventLoops.apply(defaults, eventLoops(0));
    assertThat(defaults.getEventLoopPoolSize()).isEqualTo(cores);

    VertxOptions unreadable = new VertxOptions();
    EventLoops.apply(unreadable, null);
    assertThat(unreadable.getEventLoopPoolSize()).isEqualTo(cores);

    VertxOptions fromOptions = new VertxOptions().setEventLoopPoolSize(cores + 5);
    EventLoops.apply(fromOptions, eventLoops(0));
    assertThat(fromOptions.getEventLoopPoolSize()).isEqualTo(cores + 5);

    VertxOptions configured = new VertxOptions().setEventLoopPoolSize(cores + 5);
    EventLoops.apply(configured, eventLoops(7));
    assertThat(configured.getEventLoopPoolSize()).isEqualTo(7);
  }

  @Test
  @DisplayName("a negative or huge number is refused, naming the setting")
  void refusesNonsense() {
    assertThat(EventLoops.refusal(eventLoops(0))).isNull();
    assertThat(EventLoops.refusal(eventLoops(EventLoops.MAX))).isNull();
    assertThat(EventLoops.refusal(eventLoops(-1))).contains("vertx.eventLoops").contains("-1");
    assertThat(EventLoops.refusal(eventLoops(EventLoops.MAX + 1))).contains("vertx.eventLoops");
    JsonObject fraction = new JsonObject().put("vertx", new JsonObject().put("eventLoops", 2.5));
    assertThat(EventLoops.refusal(fraction)).contains("2.5");
    JsonObject text = new JsonObject().put("vertx", new JsonObject().put("eventLoops", "four"));
    assertThat(EventLoops.refusal(text)).contains("four");
    VertxOptions refused = new VertxOptions();
    EventLoops.apply(refused, fraction); // the node will refuse to start; Vert.x is still built, one loop per core
    assertThat(refused.getEventLoopPoolSize()).isEqualTo(VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE / 2);
  }

  @Test
  @DisplayName("instances: 0 deploys one per event loop this Vert.x has (3 here), a number that many")
  void instancesFollowTheLoops() {
    NodeParts parts = new NodeParts(vertx);
    assertThat(parts.eventLoops()).isEqualTo(3);
    JsonObject perLoop = new JsonObject().put("http", new JsonObject().put("instances", 0))
        .put("fetch", new JsonObject().put("instances", 0));
    assertThat(parts.perEventLoop(perLoop, "http")).isEqualTo(3);
    assertThat(parts.perEventLoop(perLoop, "fetch")).isEqualTo(3);
    JsonObject two = new JsonObject().put("http", new JsonObject().put("instances", 2));
    assertThat(parts.perEventLoop(two, "http")).isEqualTo(2);
  }

  @Test
  @DisplayName("a node with vertx.eventLoops -1 refuses to start and says why")
  void nodeRefusesToStart(VertxTestContext ctx) {
    JsonObject config = ServiceUnderTest.config(eventLoops(-1));
    vertx.deployVerticle(new MainVerticle(Map.of()), new DeploymentOptions().setConfig(config))
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(err.getMessage()).contains("vertx.eventLoops must be 0");
          ctx.completeNow();
        })));
  }
}
