package io.fetchbus.bus;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.fetchbus.support.TestBase;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.io.Serializable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The node's inbound interceptor: only data (JSON, strings, buffers, null) reaches Fetchbus over the bus. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class WireBodiesTest extends TestBase {
  /** What a client could send if nothing checked: a Java-serialized object. */
  record Gadget(String command) implements Serializable {}

  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private final Logger logger = (Logger) LoggerFactory.getLogger(WireBodies.class);

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    logged.start();
    logger.addAppender(logged);
    deployWithUpstream(new JsonObject()).onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void detach() {
    logger.detachAppender(logged);
  }

  @Test
  @DisplayName("a Java-serialized body and a number sent to fetchbus addresses are refused with 400 and logged, "
      + "JSON still passes, and other addresses of the JVM are left alone")
  void onlyDataReachesFetchbus(VertxTestContext ctx) {
    var bus = vertx.eventBus();
    bus.consumer("another.app.numbers", msg -> msg.reply(msg.body()));
    bus.request(Bus.FETCH, new Gadget("rm -rf /"))
        .onComplete(ctx.failing(serialized -> ctx.verify(() -> {
          assertThat(serialized).isInstanceOf(ReplyException.class);
          assertThat(((ReplyException) serialized).failureType()).isEqualTo(ReplyFailure.RECIPIENT_FAILURE);
          assertThat(((ReplyException) serialized).failureCode()).isEqualTo(Failure.INVALID.code);
          assertThat(logged.list).hasSize(1);
          assertThat(logged.list.get(0).getFormattedMessage()).contains(Bus.FETCH).contains("codec serializable");
          bus.request(Bus.PAGES_GET, 42)
              .onComplete(ctx.failing(number -> ctx.verify(() -> {
                assertThat(((ReplyException) number).failureCode()).isEqualTo(Failure.INVALID.code);
                bus.<JsonObject>request(Bus.STORE_PING, new JsonObject())
                    .compose(ping -> bus.request("another.app.numbers", 7))
                    .onComplete(ctx.succeeding(echo -> ctx.verify(() -> {
                      assertThat(echo.body()).isEqualTo(7);
                      ctx.completeNow();
                    })));
              })));
        })));
  }
}
