package io.fetchbus.store;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgConnection;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A node started without {@code -cluster} on a database another node uses says so at start: they share the frontier
 * but not politeness. The other node here is a session named as a store names its own ({@code fetchbus/<node id>}),
 * on the test's real PostgreSQL.
 */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class LoneNodeTest extends TestBase {
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private final Logger logger = (Logger) LoggerFactory.getLogger(LoneNode.class);

  @BeforeEach
  void capture() {
    logged.start();
    logger.addAppender(logged);
  }

  @AfterEach
  void release() {
    logger.detachAppender(logged);
  }

  @Test
  @DisplayName("an unclustered node that finds another node's session on its database warns once at start, naming "
      + "it and saying what to do")
  void warnsOfASharedDatabase(VertxTestContext ctx) {
    String other = "other-" + UUID.randomUUID();
    PgConnection.connect(vertx, TestDatabase.connectOptions().addProperty("application_name", "fetchbus/" + other))
        .compose(session -> ServiceUnderTest.deploy(vertx, new JsonObject()).compose(fb -> session.close()))
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          assertThat(logged.list).filteredOn(e -> e.getLevel() == Level.WARN)
              .extracting(ILoggingEvent::getFormattedMessage)
              .anySatisfy(line -> assertThat(line).contains(other).contains("without -cluster")
                  .contains("Start nodes that work together with -cluster"));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a node with two store verticles checks once: another node's session gives one warning, not one per "
      + "store verticle")
  void warnsOncePerNode(VertxTestContext ctx) {
    String other = "other-" + UUID.randomUUID();
    JsonObject twoStores = new JsonObject().put("store", new JsonObject().put("instances", 2));
    PgConnection.connect(vertx, TestDatabase.connectOptions().addProperty("application_name", "fetchbus/" + other))
        .compose(session -> ServiceUnderTest.deploy(vertx, twoStores).compose(fb -> session.close()))
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          assertThat(logged.list).filteredOn(e -> e.getLevel() == Level.WARN)
              .extracting(ILoggingEvent::getFormattedMessage)
              .filteredOn(line -> line.contains(other))
              .hasSize(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("alone on its database, an unclustered node does not warn")
  void quietWhenAlone(VertxTestContext ctx) {
    ServiceUnderTest.deploy(vertx, new JsonObject()).onComplete(ctx.succeeding(fb -> ctx.verify(() -> {
      assertThat(logged.list).filteredOn(e -> e.getLevel() == Level.WARN).isEmpty();
      ctx.completeNow();
    })));
  }
}
