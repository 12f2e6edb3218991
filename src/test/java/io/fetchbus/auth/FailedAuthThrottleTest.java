package io.fetchbus.auth;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.vertx.core.Vertx;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/** Throttled addresses are logged through a SampledLog: a line for the first, a count for the others. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class FailedAuthThrottleTest {
  private final Logger logger = (Logger) LoggerFactory.getLogger(FailedAuthThrottle.class);
  private final ListAppender<ILoggingEvent> events = new ListAppender<>();

  @BeforeEach
  void attach() {
    events.start();
    logger.addAppender(events);
  }

  @AfterEach
  void detach() {
    logger.detachAppender(events);
  }

  @Test
  @DisplayName("5 addresses throttled in one log window: the first is named in a WARN line, the other 4 are counted "
      + "in one summary line")
  void blockedAddressesAreSampled(Vertx vertx, VertxTestContext ctx) {
    FailedAuthThrottle throttle = new FailedAuthThrottle(vertx, 2, 60_000, 300);
    for (int i = 1; i <= 5; i++) {
      throttle.failed("10.0.0." + i);
      throttle.failed("10.0.0." + i);
    }
    throttle.failed("10.0.0.9"); // one wrong key: not throttled
    vertx.setPeriodic(50, id -> {
      if (lines().size() > 1) {
        vertx.cancelTimer(id);
        ctx.verify(() -> {
          assertThat(lines()).hasSize(2);
          assertThat(lines().get(0)).startsWith("client address 10.0.0.1 presented 2 wrong API keys within 60 s");
          assertThat(lines().get(1)).startsWith("4 more client addresses throttled for wrong API keys in the last 0.3 s");
          assertThat(events.list).allSatisfy(e -> assertThat(e.getLevel()).isEqualTo(Level.WARN));
          for (int i = 1; i <= 5; i++) {
            assertThat(throttle.blockedForMs("10.0.0." + i)).isBetween(1L, 60_000L);
          }
          assertThat(throttle.blockedForMs("10.0.0.9")).isZero();
          assertThat(throttle.blockedForMs("10.0.0.10")).isZero();
        });
        ctx.completeNow();
      }
    });
  }

  private List<String> lines() {
    return events.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }
}
