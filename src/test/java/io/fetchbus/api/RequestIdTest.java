package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.fetchbus.support.TestBase;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** X-Request-Id: accepted or made up, returned, carried on the bus, and in the logs of the work done for it. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class RequestIdTest extends TestBase {
  private final Logger logger = (Logger) LoggerFactory.getLogger("io.fetchbus");
  private final ListAppender<ILoggingEvent> events = new ListAppender<>();
  private Level previous;

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    previous = logger.getLevel();
    logger.setLevel(Level.DEBUG);
    events.start();
    logger.addAppender(events);
    deployWithUpstream(new JsonObject()).onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void restoreLogging() {
    logger.detachAppender(events);
    logger.setLevel(previous);
  }

  private List<String> lines(String loggerPrefix) {
    return events.list.stream().filter(e -> e.getLoggerName().startsWith(loggerPrefix))
        .map(ILoggingEvent::getFormattedMessage).toList();
  }

  @Test
  @DisplayName("a client's X-Request-Id is returned and appears in the fetch, store and access logs of that request")
  void carried(VertxTestContext ctx) {
    fb.http.post("/v1/fetch").putHeader("X-Request-Id", "req-42")
        .sendJsonObject(new JsonObject().put("url", up.url("/page/traced")))
        .compose(resp -> {
          // The access line is written when the response is done: wait for it, never for a fixed time.
          Promise<Void> logged = Promise.promise();
          vertx.setPeriodic(0, 20, id -> {
            if (lines("io.fetchbus.access").stream().anyMatch(l -> l.contains("id=req-42"))) {
              vertx.cancelTimer(id);
              logged.tryComplete();
            }
          });
          return logged.future().map(resp);
        })
        .onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
          assertThat(resp.getHeader("X-Request-Id")).isEqualTo("req-42");
          assertThat(lines("io.fetchbus.fetch")).anyMatch(l -> l.contains("/page/traced") && l.contains("[request req-42]"));
          assertThat(lines("io.fetchbus.store")).anyMatch(l -> l.contains("fetchbus.pages.save") && l.contains("[request req-42]"));
          assertThat(lines("io.fetchbus.access")).anyMatch(l -> l.startsWith("POST /v1/fetch 201 ") && l.contains("key=-")
              && l.endsWith("id=req-42"));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a missing or unsafe X-Request-Id is replaced by a generated one")
  void generated(VertxTestContext ctx) {
    fb.http.get("/v1/pages").putHeader("X-Request-Id", "evil\" id=forged").send()
        .onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
          assertThat(resp.getHeader("X-Request-Id")).matches("[0-9a-f-]{36}");
          ctx.completeNow();
        })));
  }
}
