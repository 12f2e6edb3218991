package io.fetchbus.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.fetchbus.bus.Bus;
import io.fetchbus.support.CrawlSetup;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.JobClient;
import io.fetchbus.support.Receiver;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestSite;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Webhooks of crawl and batch jobs, delivered to a real receiver on 127.0.0.1 and checked as a receiver would. */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class WebhookTest extends TestBase {
  private static final String SECRET = "whsec-7f3a9c1e-never-shown";
  private static final String HEADER_VALUE = "Bearer hook-token-5b2d-never-shown";
  private static final String URL_TOKEN = "url-token-91c4";

  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final Logger fetchbusLogger = (Logger) LoggerFactory.getLogger("io.fetchbus");
  private Level levelBefore;
  private TestSite site;
  private Receiver receiver;

  /** Every log line of the service, at DEBUG, kept in memory so the test can look for secrets in them. */
  @BeforeEach
  void captureLogs() {
    levelBefore = fetchbusLogger.getLevel();
    fetchbusLogger.setLevel(Level.DEBUG);
    fetchbusLogger.setAdditive(false);
    logs.start();
    fetchbusLogger.addAppender(logs);
  }

  @AfterEach
  void restoreLogs() {
    fetchbusLogger.detachAppender(logs);
    fetchbusLogger.setLevel(levelBefore);
    fetchbusLogger.setAdditive(true);
  }

  @BeforeEach
  void start(VertxTestContext ctx) {
    TestSite.start(vertx, 120)
        .compose(s -> {
          site = s;
          return Receiver.start(vertx);
        })
        .onSuccess(r -> receiver = r)
        .onComplete(ctx.succeedingThenComplete());
  }

  /** The crawl tests' settings, quick webhook retries, and {@code overrides}. */
  private Future<Void> deploy(JsonObject overrides) {
    JsonObject config = CrawlSetup.config()
        .put("webhooks", new JsonObject().put("retryBaseMs", 20).put("retryMaxMs", 100).put("timeoutMs", 5_000))
        .mergeIn(overrides, true);
    return ServiceUnderTest.fresh(vertx, config).onSuccess(f -> fb = f).mapEmpty();
  }

  private JsonObject webhook() {
    return new JsonObject().put("url", receiver.url("/hooks/crawl?token=" + URL_TOKEN)).put("secret", SECRET)
        .put("headers", new JsonObject().put("Authorization", HEADER_VALUE));
  }

  private JsonObject crawl(int maxDepth, JsonObject webhook) {
    return CrawlSetup.linksOnly(site).put("maxDepth", maxDepth).put("webhook", webhook);
  }

  private Future<JsonObject> stats() {
    return vertx.eventBus().<JsonObject>request(Bus.WEBHOOK_STATS, new JsonObject()).map(Message::body);
  }

  /** The sender's counters once {@code until} holds for them; asks again every 20 ms (the test's timeout bounds this). */
  private Future<JsonObject> stats(Predicate<JsonObject> until) {
    return stats().compose(s -> until.test(s) ? Future.succeededFuture(s) : vertx.timer(20).compose(t -> stats(until)));
  }

  private Future<Void> until(BooleanSupplier done) {
    return done.getAsBoolean() ? Future.succeededFuture() : vertx.timer(20).compose(t -> until(done));
  }

  private static boolean settled(JsonObject stats) {
    return stats.getInteger("queued") == 0 && stats.getInteger("inFlight") == 0;
  }

  private List<Receiver.Request> accepted(String event) {
    return receiver.received().stream()
        .filter(r -> r.answered() / 100 == 2 && event.equals(r.header("X-Fetchbus-Event"))).toList();
  }

  /** What a receiver checks: sha256= and the HMAC-SHA256, keyed with the secret, of the timestamp, a dot and the body. */
  private static String expectedSignature(Receiver.Request r) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    byte[] signed = Buffer.buffer(r.header("X-Fetchbus-Timestamp") + ".").appendBuffer(r.body()).getBytes();
    return "sha256=" + HexFormat.of().formatHex(mac.doFinal(signed));
  }

  private List<String> logLines() {
    synchronized (logs) {
      return logs.list.stream().map(e -> e.getFormattedMessage()
          + (e.getThrowableProxy() == null ? "" : " " + e.getThrowableProxy().getMessage())).toList();
    }
  }

  private void assertNoSecretLogged() {
    assertThat(logLines()).isNotEmpty().noneMatch(line -> line.contains(SECRET) || line.contains(HEADER_VALUE)
        || line.contains(URL_TOKEN));
  }

  @Test
  @DisplayName("a crawl delivers started, one page event per stored page and completed, each signed; a delivery failing twice arrives on its 3rd attempt")
  void deliversSignedEvents(VertxTestContext ctx) {
    // The first delivery to arrive is answered 500 twice, then accepted.
    AtomicReference<String> unlucky = new AtomicReference<>();
    receiver.answer(r -> {
      String id = r.header("X-Fetchbus-Delivery");
      unlucky.compareAndSet(null, id);
      long before = receiver.received().stream().filter(p -> id.equals(p.header("X-Fetchbus-Delivery"))).count();
      return id.equals(unlucky.get()) && before < 2 ? 500 : 204;
    });
    Map<String, Integer> reachable = site.reachable(2, link -> true);
    Set<String> expectedPages = TestSite.pages(reachable);
    deploy(new JsonObject())
        .compose(v -> JobClient.crawl(fb, crawl(2, webhook())))
        .compose(id -> JobClient.finished(fb, "/v1/crawls/" + id)
            .compose(job -> until(() -> accepted("completed").size() == 1 && accepted("started").size() == 1
                && accepted("page").size() == expectedPages.size()))
            .compose(v -> stats(WebhookTest::settled))
            .compose(stats -> JobClient.all(fb, "/v1/crawls/" + id + "/pages")
                .compose(pages -> fb.get("/v1/crawls/" + id).compose(status -> fb.get("/v1/crawls").map(list -> {
                  ctx.verify(() -> {
                    List<Receiver.Request> all = receiver.received();
                    // Every request: signed over its timestamp and exact body, fresh, with the job's own header.
                    for (Receiver.Request r : all) {
                      assertThat(r.header("X-Fetchbus-Signature")).isEqualTo(expectedSignature(r));
                      assertThat(Long.parseLong(r.header("X-Fetchbus-Timestamp")))
                          .isBetween(Instant.now().getEpochSecond() - 300, Instant.now().getEpochSecond() + 5);
                      assertThat(r.header("Authorization")).isEqualTo(HEADER_VALUE);
                      assertThat(r.header("Content-Type")).isEqualTo("application/json");
                      assertThat(r.path()).isEqualTo("/hooks/crawl");
                      JsonObject body = r.json();
                      assertThat(body.getString("id")).isEqualTo(r.header("X-Fetchbus-Delivery"));
                      assertThat(body.getString("event")).isEqualTo(r.header("X-Fetchbus-Event"));
                      assertThat(body.getString("jobId")).isEqualTo(id);
                      assertThat(body.getString("kind")).isEqualTo("crawl");
                      assertThat(body.getInstant("occurredAt")).isNotNull();
                    }
                    // Each event accepted once: started, one per stored page, completed.
                    List<Receiver.Request> ok = all.stream().filter(r -> r.answered() == 204).toList();
                    assertThat(ok).extracting(r -> r.header("X-Fetchbus-Delivery")).doesNotHaveDuplicates();
                    assertThat(ok).hasSize(expectedPages.size() + 2);
                    Set<String> pageUrls = accepted("page").stream()
                        .map(r -> r.json().getJsonObject("data").getString("url")).collect(Collectors.toSet());
                    assertThat(pageUrls).isEqualTo(pages.stream().map(p -> p.getString("url")).collect(Collectors.toSet()));
                    assertThat(pageUrls).hasSize(expectedPages.size());
                    assertThat(accepted("page")).allSatisfy(r -> {
                      JsonObject page = r.json().getJsonObject("data");
                      assertThat(page.containsKey("body")).isFalse();
                      assertThat(page.getLong("id")).isPositive();
                    });
                    JsonObject started = accepted("started").get(0).json().getJsonObject("data");
                    assertThat(started.getString("id")).isEqualTo(id);
                    JsonObject completed = accepted("completed").get(0).json().getJsonObject("data");
                    assertThat(completed.getString("status")).isEqualTo("completed");
                    assertThat(completed.getInteger("completed")).isEqualTo(expectedPages.size());
                    assertThat(completed.getJsonObject("spec").getJsonObject("webhook").getString("secret")).isEqualTo("***");
                    // The unlucky delivery: the same body three times, accepted on the third attempt.
                    List<Receiver.Request> tries = all.stream()
                        .filter(r -> unlucky.get().equals(r.header("X-Fetchbus-Delivery"))).toList();
                    assertThat(tries).extracting(r -> r.header("X-Fetchbus-Attempt")).containsExactly("1", "2", "3");
                    assertThat(tries).extracting(Receiver.Request::answered).containsExactly(500, 500, 204);
                    assertThat(tries).extracting(r -> r.body().toString()).containsOnly(tries.get(0).body().toString());
                    assertThat(stats.getLong("delivered")).isEqualTo(ok.size());
                    assertThat(stats.getLong("attempts")).isEqualTo(all.size()).isEqualTo(ok.size() + 2L);
                    assertThat(stats.getLong("failed")).isZero();
                    assertThat(stats.getLong("dropped")).isZero();
                    // The secret and the header's value are the job owner's: not shown, not logged.
                    for (String shown : List.of(status.bodyAsString(), list.bodyAsString())) {
                      assertThat(shown).doesNotContain(SECRET).doesNotContain(HEADER_VALUE);
                    }
                    assertThat(status.bodyAsJsonObject().getJsonObject("spec").getJsonObject("webhook")
                        .getString("secret")).isEqualTo("***");
                    assertNoSecretLogged();
                  });
                  return null;
                })))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a receiver answering 400 gets exactly one attempt per delivery")
  void noRetryOn4xx(VertxTestContext ctx) {
    receiver.answer(r -> 400);
    deploy(new JsonObject())
        .compose(v -> JobClient.crawl(fb, crawl(0, webhook().put("events", new JsonArray().add("started").add("completed")))))
        .compose(id -> JobClient.finished(fb, "/v1/crawls/" + id))
        .compose(job -> stats(s -> s.getLong("failed") == 2 && settled(s)))
        .onComplete(ctx.succeeding(stats -> ctx.verify(() -> {
          assertThat(receiver.received()).hasSize(2);
          assertThat(receiver.received()).extracting(r -> r.header("X-Fetchbus-Event"))
              .containsExactlyInAnyOrder("started", "completed");
          assertThat(receiver.received()).extracting(r -> r.header("X-Fetchbus-Attempt")).containsOnly("1");
          assertThat(stats.getLong("attempts")).isEqualTo(2);
          assertThat(stats.getLong("delivered")).isZero();
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a webhook to a destination the guard refuses is never contacted or retried, and the crawl completes all the same")
  void refusedDestination(VertxTestContext ctx) {
    // Only the site's port may be fetched: the receiver's port is a destination the guard refuses.
    Set<String> expectedPages = TestSite.pages(site.reachable(1, link -> true));
    deploy(new JsonObject().put("fetch", new JsonObject().put("guard", new JsonObject()
            .put("allowPrivateNetworks", true).put("ports", new JsonArray().add(site.port())))))
        .compose(v -> JobClient.crawl(fb, crawl(1, webhook())))
        .compose(id -> JobClient.finished(fb, "/v1/crawls/" + id)
            .compose(job -> stats(s -> s.getLong("failed") == expectedPages.size() + 2 && settled(s))
                .map(stats -> {
                  ctx.verify(() -> {
                    assertThat(job.getString("status")).isEqualTo("completed");
                    assertThat(job.getInteger("completed")).isEqualTo(expectedPages.size());
                    assertThat(receiver.received()).isEmpty();
                    assertThat(stats.getLong("attempts")).isEqualTo(expectedPages.size() + 2);
                    assertThat(logLines()).anyMatch(line -> line.contains("not delivered after 1 attempt(s)")
                        && line.contains("destination-not-allowed (403)"));
                    assertNoSecretLogged();
                  });
                  return null;
                })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a cancelled crawl sends the completed event with the status cancelled")
  void cancelledJobEndsWithCompletedEvent(VertxTestContext ctx) {
    site.hold();
    deploy(new JsonObject())
        .compose(v -> JobClient.crawl(fb, crawl(5, webhook().put("events", new JsonArray().add("completed")))))
        .compose(id -> JobClient.await(fb, "/v1/crawls/" + id, job -> site.heldCount() >= 1)
            .compose(running -> fb.http.delete("/v1/crawls/" + id).send())
            .compose(cancelled -> {
              site.release();
              return until(() -> accepted("completed").size() == 1);
            })
            .compose(v -> stats(WebhookTest::settled))
            .map(stats -> {
              ctx.verify(() -> {
                assertThat(receiver.received()).hasSize(1);
                JsonObject body = accepted("completed").get(0).json();
                assertThat(body.getString("jobId")).isEqualTo(id);
                assertThat(body.getJsonObject("data").getString("status")).isEqualTo("cancelled");
              });
              return null;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a batch sends started, a page event per URL and completed, with kind batch")
  void batchWebhook(VertxTestContext ctx) {
    JsonObject spec = new JsonObject().put("urls", new JsonArray().add(site.url("/p/5")).add(site.url("/p/6")))
        .put("webhook", webhook());
    deploy(new JsonObject())
        .compose(v -> fb.http.post("/v1/batches").sendJsonObject(spec))
        .compose(resp -> until(() -> accepted("completed").size() == 1 && accepted("page").size() == 2
            && accepted("started").size() == 1).map(resp.bodyAsJsonObject().getString("id")))
        .compose(id -> stats(WebhookTest::settled).map(stats -> {
          ctx.verify(() -> {
            assertThat(receiver.received()).hasSize(4).allSatisfy(r -> {
              assertThat(r.json().getString("kind")).isEqualTo("batch");
              assertThat(r.json().getString("jobId")).isEqualTo(id);
            });
            assertThat(accepted("page")).extracting(r -> r.json().getJsonObject("data").getString("url"))
                .containsExactlyInAnyOrder(site.url("/p/5"), site.url("/p/6"));
          });
          return null;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("with the delivery queue full, events are dropped and counted, and the crawl stores every page all the same")
  void fullQueueDrops(VertxTestContext ctx) {
    // A receiver that never answers keeps every delivery in flight; at most two are held.
    Set<String> expectedPages = TestSite.pages(site.reachable(2, link -> true));
    deploy(new JsonObject().put("webhooks", new JsonObject().put("maxQueued", 2).put("timeoutMs", 30_000)))
        .compose(v -> JobClient.crawl(fb, crawl(2, webhook().put("url", receiver.url("/hang")))))
        .compose(id -> JobClient.finished(fb, "/v1/crawls/" + id))
        .compose(job -> stats(s -> s.getLong("dropped") == expectedPages.size()).map(stats -> {
          ctx.verify(() -> {
            assertThat(job.getString("status")).isEqualTo("completed");
            assertThat(job.getInteger("completed")).isEqualTo(expectedPages.size());
            // started and one more were taken; every later event was dropped.
            assertThat(stats.getInteger("queued") + stats.getInteger("inFlight")).isEqualTo(2);
            assertThat(logLines()).anyMatch(line -> line.contains("webhook queue full"));
          });
          return null;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a webhook header that frames the request, or that Fetchbus sets itself, is refused with a 400 naming it")
  void reservedHeadersRefused(VertxTestContext ctx) {
    deploy(new JsonObject())
        .compose(v -> Future.all(List.of("Host", "Transfer-Encoding", "X-Fetchbus-Signature").stream()
            .map(name -> fb.http.post("/v1/crawls").sendJsonObject(crawl(1, webhook()
                .put("headers", new JsonObject().put(name, "x")))))
            .toList()))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          List<String> names = List.of("Host", "Transfer-Encoding", "X-Fetchbus-Signature");
          for (int i = 0; i < names.size(); i++) {
            io.vertx.ext.web.client.HttpResponse<Buffer> resp = all.resultAt(i);
            assertThat(resp.statusCode()).isEqualTo(400);
            assertThat(resp.bodyAsJsonObject().getString("detail")).startsWith("webhook.headers." + names.get(i) + ":");
          }
          ctx.completeNow();
        })));
  }
}
