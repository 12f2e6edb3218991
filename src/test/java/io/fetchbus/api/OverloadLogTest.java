package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.fetchbus.api.http.Admission;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.Upstream;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Overload is logged as a count, not as a WARN and an access line per refused request. */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class OverloadLogTest extends TestBase {
  private static final int REFUSED = 100;
  private final Logger fetchbus = (Logger) LoggerFactory.getLogger("io.fetchbus");
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private Level previous;

  @BeforeEach
  void start(VertxTestContext ctx) {
    previous = fetchbus.getLevel();
    fetchbus.setLevel(Level.INFO); // the access lines are INFO
    logged.start();
    fetchbus.addAppender(logged);
    Upstream.start(vertx).onSuccess(u -> up = u).onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void restore() {
    fetchbus.detachAppender(logged);
    fetchbus.setLevel(previous);
  }

  private List<String> lines(String logger, Level level) {
    return logged.list.stream().filter(e -> e.getLoggerName().equals(logger) && e.getLevel() == level)
        .map(ILoggingEvent::getFormattedMessage).toList();
  }

  @Test
  @DisplayName("100 requests refused over limits.maxInFlightRequests: one WARN line at once and one count at the end "
      + "of the window, no access line and no problem line for each")
  void refusalsAreCounted(VertxTestContext ctx) {
    ServiceUnderTest.fresh(vertx, new JsonObject().put("limits", new JsonObject().put("maxInFlightRequests", 1)))
        .compose(service -> {
          Future<HttpResponse<Buffer>> held = service.postFetch(new JsonObject().put("url", up.url("/gate/held")));
          Promise<List<HttpResponse<Buffer>>> refused = Promise.promise();
          vertx.setPeriodic(0, 20, id -> {
            if (up.hits("/gate/held") == 1) {
              vertx.cancelTimer(id);
              List<Future<HttpResponse<Buffer>>> all = new ArrayList<>();
              for (int i = 0; i < REFUSED; i++) {
                all.add(service.get("/v1/pages"));
              }
              Future.all(all).map(done -> all.stream().map(Future::result).toList()).onComplete(refused);
            }
          });
          return refused.future().compose(answers -> {
            up.openGate();
            return held.compose(done -> summary()).map(summary -> {
              ctx.verify(() -> {
                assertThat(answers).allSatisfy(r -> assertThat(r.statusCode()).isEqualTo(503));
                assertThat(lines(Admission.class.getName(), Level.WARN)).hasSize(2);
                assertThat(lines(Admission.class.getName(), Level.WARN).get(0))
                    .startsWith("refused GET /v1/pages with 503").contains("limits.maxInFlightRequests");
                assertThat(summary).startsWith((REFUSED - 1) + " more requests refused by limits.*");
                assertThat(lines(Problems.class.getName(), Level.WARN)).isEmpty();
                assertThat(lines("io.fetchbus.access", Level.INFO)).as("only the held request's line")
                    .singleElement().asString().contains("/v1/fetch 201");
              });
              return summary;
            });
          });
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  /** The count Admission logs at the end of its window, polled for. */
  private Future<String> summary() {
    Promise<String> found = Promise.promise();
    vertx.setPeriodic(100, id -> {
      List<String> warnings = lines(Admission.class.getName(), Level.WARN);
      if (warnings.size() > 1) {
        vertx.cancelTimer(id);
        found.tryComplete(warnings.get(1));
      }
    });
    return found.future();
  }
}
