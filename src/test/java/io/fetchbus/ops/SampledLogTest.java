package io.fetchbus.ops;

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

/** A flood of the same warning becomes a few lines and a count. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class SampledLogTest {
  private final Logger logger = (Logger) LoggerFactory.getLogger("io.fetchbus.test.sampled");
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
  @DisplayName("1,000 warnings in one window: the first 3 are logged, the other 997 are one summary line at its end")
  void floodIsSampledAndCounted(Vertx vertx, VertxTestContext ctx) {
    SampledLog log = new SampledLog(vertx, logger, 500, 3, "test events");
    for (int i = 0; i < 1_000; i++) {
      log.warn("event {}", i);
    }
    vertx.setPeriodic(50, id -> {
      if (lines().size() > 3) {
        vertx.cancelTimer(id);
        ctx.verify(() -> {
          assertThat(lines()).hasSize(4).startsWith("event 0", "event 1", "event 2");
          assertThat(lines().get(3)).startsWith("997 more test events in the last 0.5 s");
          assertThat(events.list).allSatisfy(e -> {
            assertThat(e.getLevel()).isEqualTo(Level.WARN);
            assertThat(e.getThrowableProxy()).isNull();
          });
        });
        ctx.completeNow();
      }
    });
  }

  private List<String> lines() {
    return events.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }
}
