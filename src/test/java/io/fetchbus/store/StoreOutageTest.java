package io.fetchbus.store;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.fetchbus.support.Poll;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TcpProxy;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.fetchbus.support.Upstream;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgConnectOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Postgres goes away (open connections drop, new ones are closed at once) and comes back, while the service
 * keeps running: requests that need the store answer 503, and the service recovers by itself.
 */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class StoreOutageTest extends TestBase {
  private Upstream up;
  private TcpProxy proxy;

  @BeforeEach
  void start(VertxTestContext ctx) {
    PgConnectOptions pg = TestDatabase.connectOptions();
    proxy = new TcpProxy(vertx, pg.getHost(), pg.getPort());
    Upstream.start(vertx).onSuccess(u -> up = u).onComplete(ctx.succeedingThenComplete());
  }

  private JsonObject viaProxy() {
    PgConnectOptions pg = TestDatabase.connectOptions();
    String auth = pg.getUser() + (pg.getPassword() == null || pg.getPassword().isEmpty() ? "" : ":" + pg.getPassword());
    String url = "postgresql://" + auth + "@127.0.0.1:" + proxy.port() + "/" + pg.getDatabase();
    return new JsonObject().put("pg", new JsonObject().put("url", url).put("connectTimeoutMs", 1000)
        .put("acquireTimeoutMs", 1000));
  }

  /**
   * Asks for {@code path} until it is stored (201), one request at a time: overlapping requests for one URL would
   * share one fetch, and the one that joined it is rightly a 200. Anything but 503 or 201 fails.
   */
  private Future<Integer> fetchUntilCreated(ServiceUnderTest fb, String path) {
    AtomicInteger attempts = new AtomicInteger();
    return Poll.until(vertx, () -> fb.postFetch(new JsonObject().put("url", up.url(path))).map(resp -> {
      attempts.incrementAndGet();
      if (resp.statusCode() != 503 && resp.statusCode() != 201) {
        throw new AssertionError("unexpected status " + resp.statusCode() + ": " + resp.bodyAsString());
      }
      return resp.statusCode() == 201;
    })).map(v -> attempts.get());
  }

  @Test
  @DisplayName("Postgres lost while running: POST /v1/fetch answers 503 saying the store is unavailable, then recovers")
  void outageWhileRunning(VertxTestContext ctx) {
    proxy.start(false)
        .compose(p -> ServiceUnderTest.deploy(vertx, viaProxy()))
        .compose(fb -> fb.postFetch(new JsonObject().put("url", up.url("/page/before")))
            .compose(before -> {
              ctx.verify(() -> assertThat(before.statusCode()).isEqualTo(201));
              proxy.cut();
              return fb.postFetch(new JsonObject().put("url", up.url("/page/during")));
            })
            .compose(during -> {
              ctx.verify(() -> {
                assertThat(during.statusCode()).isEqualTo(503);
                assertThat(during.getHeader("Content-Type")).isEqualTo("application/problem+json");
                assertThat(during.getHeader("Retry-After")).isNotNull();
                assertThat(during.bodyAsJsonObject().getString("detail")).contains("store is unavailable");
              });
              return fb.get("/v1/pages");
            })
            .compose(listing -> {
              ctx.verify(() -> assertThat(listing.statusCode()).isEqualTo(503));
              proxy.restore();
              return fetchUntilCreated(fb, "/page/after");
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  /** Polls {@code path} every 100 ms until it answers {@code status}. */
  private Future<JsonObject> pollUntil(ServiceUnderTest fb, String path, int status) {
    Promise<JsonObject> reached = Promise.promise();
    vertx.setPeriodic(0, 100, id -> fb.get(path).onSuccess(resp -> {
      if (resp.statusCode() == status && reached.tryComplete(resp.bodyAsJsonObject())) {
        vertx.cancelTimer(id);
      }
    }));
    return reached.future();
  }

  @Test
  @DisplayName("/health stays up while /ready turns red when Postgres is lost and green again when it is back")
  void readiness(VertxTestContext ctx) {
    proxy.start(false)
        .compose(p -> ServiceUnderTest.deploy(vertx, viaProxy()))
        .compose(fb -> pollUntil(fb, "/ready", 200)
            .compose(up -> {
              ctx.verify(() -> assertThat(up.getString("status")).isEqualTo("UP"));
              proxy.cut();
              return pollUntil(fb, "/ready", 503);
            })
            .compose(down -> fb.get("/health").map(health -> {
              ctx.verify(() -> {
                assertThat(down.getString("status")).isEqualTo("DOWN");
                assertThat(down.encode()).contains("store");
                assertThat(health.statusCode()).isEqualTo(200);
              });
              proxy.restore();
              return health;
            }))
            .compose(h -> pollUntil(fb, "/ready", 200)))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("an outage is logged once as it starts and once as it ends, with its duration, whatever the requests "
      + "during it; their 503s are sampled, not a WARN each")
  void outageLoggedOnce(VertxTestContext ctx) {
    Logger fetchbus = (Logger) LoggerFactory.getLogger("io.fetchbus");
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    fetchbus.addAppender(logged);
    long[] firstRefusal = new long[1];
    long[] restored = new long[1];
    proxy.start(false)
        .compose(p -> ServiceUnderTest.deploy(vertx, viaProxy()))
        .compose(fb -> fb.postFetch(new JsonObject().put("url", up.url("/page/before")))
            .compose(before -> {
              proxy.cut();
              return fb.postFetch(new JsonObject().put("url", up.url("/page/first-during")));
            })
            .compose(first -> {
              firstRefusal[0] = System.currentTimeMillis();
              List<Future<?>> during = new ArrayList<>();
              for (int i = 0; i < 30; i++) {
                during.add(fb.postFetch(new JsonObject().put("url", up.url("/page/during-" + i))));
                during.add(fb.get("/v1/pages"));
              }
              return Future.join(during).map(first);
            })
            .compose(first -> {
              ctx.verify(() -> assertThat(first.statusCode()).isEqualTo(503));
              restored[0] = System.currentTimeMillis();
              proxy.restore();
              return fetchUntilCreated(fb, "/page/after");
            }))
        .compose(created -> lineContaining(logged, "reachable again"))
        .onComplete(ctx.succeeding(end -> ctx.verify(() -> {
          fetchbus.detachAppender(logged);
          List<String> warnings = logged.list.stream().filter(e -> e.getLevel() == Level.WARN)
              .map(ILoggingEvent::getFormattedMessage).toList();
          assertThat(warnings).filteredOn(w -> w.startsWith("PostgreSQL at ") && w.contains("cannot be reached"))
              .as("one line as it starts").hasSize(1);
          assertThat(warnings).filteredOn(w -> w.contains("reachable again")).as("one line as it ends").hasSize(1);
          long loggedMs = Long.parseLong(end.replaceAll(".*outage of (\\d+) ms.*", "$1"));
          assertThat(loggedMs).as("the outage lasted at least from the first 503 to the restore")
              .isGreaterThanOrEqualTo(restored[0] - firstRefusal[0]);
          assertThat(warnings).filteredOn(w -> w.contains("-> 503")).as("61 answers of 503, sampled").hasSizeLessThanOrEqualTo(10);
          assertThat(logged.list).noneMatch(e -> e.getLevel() == Level.ERROR);
          ctx.completeNow();
        })));
  }

  /** The first line logged that contains {@code text}, once it is logged; polled every 100 ms. */
  private Future<String> lineContaining(ListAppender<ILoggingEvent> logged, String text) {
    Promise<String> found = Promise.promise();
    vertx.setPeriodic(0, 100, id -> logged.list.stream().map(ILoggingEvent::getFormattedMessage)
        .filter(m -> m.contains(text)).findFirst().ifPresent(line -> {
          vertx.cancelTimer(id);
          found.tryComplete(line);
        }));
    return found.future();
  }

  @Test
  @DisplayName("Postgres down at start: the service starts, answers 503, migrates and serves once Postgres is reachable")
  void downAtStart(VertxTestContext ctx) {
    proxy.start(true)
        .compose(p -> ServiceUnderTest.deploy(vertx, viaProxy()))
        .compose(fb -> fb.postFetch(new JsonObject().put("url", up.url("/page/early")))
            .compose(early -> {
              ctx.verify(() -> {
                assertThat(early.statusCode()).isEqualTo(503);
                assertThat(early.bodyAsJsonObject().getString("detail")).contains("store is unavailable");
              });
              proxy.restore();
              return fetchUntilCreated(fb, "/page/late");
            }))
        .onComplete(ctx.succeedingThenComplete());
  }
}
