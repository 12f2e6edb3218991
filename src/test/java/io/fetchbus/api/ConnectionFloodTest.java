package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.Poll;
import io.fetchbus.support.PrivatePostgres;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.Upstream;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * 2,000 connections at once, each with a request, against a service that admits 32 requests in progress: what the
 * fault audit did to a node. The admitted requests are held at the upstream for as long as the flood lasts, so a
 * refusal that waited for any of them would show: every other request must be refused while they are still held.
 */
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class ConnectionFloodTest extends TestBase {
  private static final int CONNECTIONS = 2_000;
  private static final int ADMITTED = 32;

  @RegisterExtension
  final PrivatePostgres db = new PrivatePostgres();
  private final Logger fetchbus = (Logger) LoggerFactory.getLogger("io.fetchbus");
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private Level previous;

  @BeforeEach
  void start(VertxTestContext ctx) {
    previous = fetchbus.getLevel();
    fetchbus.setLevel(Level.INFO); // the access lines are INFO
    Upstream.start(vertx)
        .compose(u -> {
          up = u;
          return db.start(vertx);
        })
        .compose(d -> ServiceUnderTest.deploy(vertx, new JsonObject().put("pg", new JsonObject().put("url", db.url()))
            .put("limits", new JsonObject().put("maxInFlightRequests", ADMITTED))
            // The admitted fetches wait at the gate for as long as the flood takes on a busy machine.
            .put("fetch", new JsonObject().put("instances", 1).put("timeoutMs", 100_000).put("firstByteTimeoutMs", 100_000)
                .put("idleTimeoutMs", 100_000))))
        .onSuccess(f -> {
          fb = f;
          logged.start();
          fetchbus.addAppender(logged);
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void restore() {
    fetchbus.detachAppender(logged);
    fetchbus.setLevel(previous);
  }

  private List<ILoggingEvent> lines(Level level) {
    return logged.list.stream().filter(e -> e.getLevel() == level).toList();
  }

  @Test
  @DisplayName("2,000 connections at once: all but the 32 admitted are refused with 503 or 429 and Retry-After while "
      + "the admitted ones are still held upstream, the admitted ones then complete, /ready is green, a fetch works, "
      + "and the log has a line per admitted request and a few WARN lines, not one per refusal")
  void flood(VertxTestContext ctx) {
    // A pool with room for every connection: the service, not the test's client, sees the whole flood at once.
    WebClient client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(fb.port)
        .setKeepAlive(false), new PoolOptions().setHttp1MaxSize(CONNECTIONS));
    AtomicInteger answered = new AtomicInteger();
    long[] sentAt = new long[CONNECTIONS];
    long[] answeredAt = new long[CONNECTIONS];
    List<Future<HttpResponse<Buffer>>> answers = new ArrayList<>();
    for (int i = 0; i < CONNECTIONS; i++) {
      int n = i;
      sentAt[i] = System.nanoTime();
      answers.add(client.post("/v1/fetch").sendJsonObject(new JsonObject().put("url", up.url("/gate/flood-" + i)))
          .onComplete(ar -> {
            answeredAt[n] = System.nanoTime();
            answered.incrementAndGet();
          }));
    }
    Map<Integer, Integer> whileHeld = new TreeMap<>();
    long[] slowestRefusalMs = {0};
    // At most ADMITTED requests can be in progress: everything else must be answered with the gate still closed.
    Poll.until(vertx, () -> Future.succeededFuture(answered.get() >= CONNECTIONS - ADMITTED))
        .compose(v -> {
          ctx.verify(() -> {
            for (int i = 0; i < CONNECTIONS; i++) {
              Future<HttpResponse<Buffer>> answer = answers.get(i);
              if (!answer.isComplete()) {
                continue;
              }
              assertThat(answer.succeeded()).as("request %d: %s", i, answer.cause()).isTrue();
              HttpResponse<Buffer> resp = answer.result();
              whileHeld.merge(resp.statusCode(), 1, Integer::sum);
              assertThat(resp.statusCode()).as(resp.bodyAsString()).isIn(429, 503);
              assertThat(resp.getHeader("Retry-After")).isNotNull();
              slowestRefusalMs[0] = Math.max(slowestRefusalMs[0], (answeredAt[i] - sentAt[i]) / 1_000_000);
            }
          });
          up.openGateForGood();
          return Future.join(answers);
        })
        .compose(all -> client.get("/ready").send())
        .compose(ready -> fb.postFetch(new JsonObject().put("url", up.url("/page/after"))).map(after -> {
          ctx.verify(() -> {
            Map<Integer, Integer> statuses = new TreeMap<>();
            answers.forEach(a -> statuses.merge(a.result().statusCode(), 1, Integer::sum));
            int created = statuses.getOrDefault(201, 0);
            assertThat(statuses.keySet()).as("%s; while held: %s; slowest refusal %d ms", statuses, whileHeld,
                slowestRefusalMs[0]).containsAnyOf(201).isSubsetOf(201, 429, 503);
            assertThat(created).isLessThanOrEqualTo(ADMITTED);
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(after.statusCode()).isEqualTo(201);
            assertThat(lines(Level.ERROR)).isEmpty();
            assertThat(lines(Level.WARN)).as("WARN lines").hasSizeLessThanOrEqualTo(10);
            assertThat(lines(Level.INFO)).as("INFO lines (an access line per admitted request)")
                .hasSizeLessThanOrEqualTo(ADMITTED + 10);
          });
          return null;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }
}
