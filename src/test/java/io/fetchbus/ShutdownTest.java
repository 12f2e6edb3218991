package io.fetchbus;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.JobClient;
import io.fetchbus.support.Poll;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.fetchbus.support.TestSite;
import io.fetchbus.support.TestVertx;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The ordered shutdown that runs when Vert.x closes (on SIGTERM the launcher closes it). The service runs in a Vert.x
 * of its own here, so the test's clients and upstream outlive it. The process-level tests are GracefulShutdownIT.
 */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class ShutdownTest extends TestBase {
  private final Vertx node = TestVertx.create();

  @AfterEach
  void closeNode(VertxTestContext ctx) {
    node.close().onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      assertThat(TestVertx.blockedEventLoops(node)).isEmpty();
      ctx.completeNow();
    })));
  }

  /**
   * The service deployed in {@code node}, and a client of it in the test's Vert.x. The answer comes back on a context
   * of the test's Vert.x: what the test chains to it must outlive the node's event loops.
   */
  private Future<ServiceUnderTest> deploy(JsonObject overrides) {
    return Future.fromCompletionStage(ServiceUnderTest.fresh(node, overrides).map(fb -> ServiceUnderTest.at(vertx, fb.port))
        .toCompletionStage(), vertx.getOrCreateContext());
  }

  @Test
  @DisplayName("while the node shuts down it takes no new connection, and a fetch in progress still finishes, is stored "
      + "and answered 201")
  void requestInProgressFinishes(VertxTestContext ctx) {
    TestSite.start(vertx, 10).compose(site -> deploy(new JsonObject().put("shutdown", new JsonObject().put("graceMs", 20_000)))
        .compose(fb -> {
          site.hold();
          var inProgress = fb.postFetch(new JsonObject().put("url", site.url("/p/1")));
          return Poll.until(vertx, () -> Future.succeededFuture(site.heldCount() == 1))
              .compose(v -> {
                Future<Void> closed = node.close();
                // Shutting down: /ready turns red at once, or refuses once the API has stopped listening. (Waiting for
                // /health to be refused failed now and then under load, after the whole grace period: the API
                // instances share one listening socket, and a new connection could still be answered.)
                return Poll.until(vertx, () -> fb.get("/ready").map(r -> r.statusCode() != 200).otherwise(true))
                    .compose(x -> {
                      ctx.verify(() -> assertThat(inProgress.isComplete()).as("the fetch in progress answered early").isFalse());
                      site.release();
                      return inProgress;
                    })
                    .compose(resp -> closed.map(resp));
              })
              .compose(resp -> TestDatabase.count(vertx, "SELECT count(*) FROM pages").map(pages -> {
                ctx.verify(() -> {
                  assertThat(resp.statusCode()).isEqualTo(201);
                  assertThat(resp.bodyAsJsonObject().getString("title")).isEqualTo("Page 1");
                  assertThat(pages).isEqualTo(1);
                });
                return null;
              }));
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("an open event stream ends as soon as the node begins to shut down, not at the end of its grace period")
  void eventStreamEnds(VertxTestContext ctx) {
    HttpClient client = held(vertx.createHttpClient());
    TestSite.start(vertx, 10).compose(site -> deploy(new JsonObject().put("shutdown", new JsonObject().put("graceMs", 20_000)))
        .compose(fb -> {
          site.hold();
          return JobClient.crawl(fb, new JsonObject().put("url", site.url("/p/0")).put("sitemap", "skip").put("maxDepth", 1))
              .compose(id -> client.request(HttpMethod.GET, fb.port, "127.0.0.1", "/v1/crawls/" + id + "/events"))
              .compose(HttpClientRequest::send)
              .compose(stream -> {
                Buffer received = Buffer.buffer();
                stream.handler(received::appendBuffer);
                Future<Void> ended = stream.end();
                // The crawl's fetch of the seed is held at the site, so the job stays running.
                return Poll.until(vertx, () -> Future.succeededFuture(site.heldCount() == 1 && received.length() > 0))
                    .compose(v -> {
                      long closing = System.currentTimeMillis();
                      Future<Void> closed = node.close();
                      return ended.timeout(5, TimeUnit.SECONDS).map(x -> {
                        ctx.verify(() -> {
                          assertThat(System.currentTimeMillis() - closing).isLessThan(5_000);
                          assertThat(received.toString()).contains("event: progress").doesNotContain("\"status\":\"completed\"");
                        });
                        site.release(); // now the crawl's drain can end too
                        return closed;
                      });
                    })
                    .compose(closed -> closed);
              });
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("/ready is red, with its check 'running' DOWN, once the node is shutting down")
  void readyRedWhileShuttingDown(VertxTestContext ctx) {
    deploy(new JsonObject())
        .compose(fb -> fb.get("/ready").compose(before -> {
          // The first step of the shutdown; the next one, stopping the API, closes the listener.
          node.sharedData().getLocalMap(Bus.NODE_INFO).put(Bus.NODE_SHUTDOWN_DEADLINE, System.currentTimeMillis());
          return fb.get("/ready").map(after -> {
            ctx.verify(() -> {
              assertThat(before.statusCode()).isEqualTo(200);
              assertThat(after.statusCode()).isEqualTo(503);
              JsonArray checks = after.bodyAsJsonObject().getJsonArray("checks");
              assertThat(checks.stream().map(JsonObject.class::cast)
                  .filter(c -> c.getString("id").equals("running")).findFirst().orElseThrow().getString("status"))
                  .isEqualTo("DOWN");
            });
            return null;
          });
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a shutdown.graceMs the launcher would cut short stops the start, naming the key")
  void graceTooLong(VertxTestContext ctx) {
    node.deployVerticle(new MainVerticle(Map.of("FETCHBUS_SHUTDOWN_GRACE_MS", "200000")),
            new DeploymentOptions().setConfig(ServiceUnderTest.config(new JsonObject()).put("shutdown", new JsonObject())))
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(err).hasMessageContaining("shutdown.graceMs");
          ctx.completeNow();
        })));
  }
}
