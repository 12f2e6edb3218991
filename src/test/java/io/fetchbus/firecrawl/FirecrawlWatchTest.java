package io.fetchbus.firecrawl;

import static io.fetchbus.firecrawl.FirecrawlJobsTest.KEY;
import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.DocsSite;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.Poll;
import io.fetchbus.support.Receiver;
import io.fetchbus.support.TestBase;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.net.URI;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What a Firecrawl client learns of a job without asking for its status: the webhooks, in Firecrawl's shape, and the
 * status WebSocket its SDKs' watchers open (the API key as the subprotocol).
 */
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class FirecrawlWatchTest extends TestBase {
  private DocsSite site;
  private Receiver receiver;

  private Future<Void> deploy(JsonObject overrides) {
    return DocsSite.start(vertx)
        .compose(s -> {
          site = s;
          return Receiver.start(vertx);
        })
        .compose(r -> {
          receiver = r;
          return ServiceUnderTest.fresh(vertx, FirecrawlJobsTest.config().mergeIn(overrides, true));
        })
        .onSuccess(f -> fb = f)
        .mapEmpty();
  }

  /** What a watcher saw: its messages, then the close's code and reason. */
  record Watched(List<JsonObject> messages, short code, String reason, String subProtocol) {
    Set<String> documentPaths() {
      Set<String> paths = new TreeSet<>();
      for (JsonObject m : messages) {
        JsonArray docs = m.getString("type").equals("catchup") ? m.getJsonObject("data").getJsonArray("data")
            : new JsonArray().add(m.getJsonObject("data"));
        docs.forEach(d -> paths.add(URI.create(((JsonObject) d).getJsonObject("metadata").getString("sourceURL")).getPath()));
      }
      return paths;
    }
  }

  private Future<WebSocket> connect(String path, String key) {
    return held(vertx.createWebSocketClient()).connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(fb.port)
        .setURI(path).setSubProtocols(List.of(key)));
  }

  /** Watches until the server closes; {@code connected} runs once the socket is open. */
  private Future<Watched> watch(String path, Runnable connected) {
    return connect(path, KEY).compose(ws -> {
      List<JsonObject> messages = new CopyOnWriteArrayList<>();
      Promise<Watched> done = Promise.promise();
      ws.textMessageHandler(text -> messages.add(new JsonObject(text)));
      ws.closeHandler(v -> done.complete(new Watched(messages, ws.closeStatusCode(), ws.closeReason(), ws.subProtocol())));
      connected.run();
      return done.future();
    });
  }

  @Test
  @DisplayName("a crawl's webhook gets Firecrawl's crawl.started, crawl.page with the document, crawl.completed")
  void crawlWebhook(VertxTestContext ctx) {
    deploy(new JsonObject())
        .compose(v -> FirecrawlJobsTest.start(fb, "/v2/crawl", new JsonObject().put("url", site.url("/blog/"))
            .put("webhook", new JsonObject().put("url", receiver.url("/hook")).put("headers",
                new JsonObject().put("X-Token", "t0k3n")).put("metadata", new JsonObject().put("job", "blog")))))
        .compose(id -> Poll.until(vertx, () -> Future.succeededFuture(receiver.received().stream()
                .anyMatch(r -> "crawl.completed".equals(r.json().getString("type")))))
            .map(v -> {
              ctx.verify(() -> {
                List<Receiver.Request> received = receiver.received();
                assertThat(received.stream().map(r -> r.json().getString("type")).collect(Collectors.toSet()))
                    .containsExactlyInAnyOrder("crawl.started", "crawl.page", "crawl.completed");
                List<JsonObject> pages = received.stream().map(Receiver.Request::json)
                    .filter(j -> j.getString("type").equals("crawl.page")).toList();
                assertThat(pages.stream().map(p -> URI.create(p.getJsonArray("data").getJsonObject(0)
                    .getJsonObject("metadata").getString("sourceURL")).getPath()).collect(Collectors.toSet()))
                    .containsExactlyInAnyOrder("/blog/", "/blog/x", "/blog/y", "/blog/z");
                assertThat(pages.get(0).getJsonArray("data").getJsonObject(0).getString("markdown")).contains("Words of");
                for (Receiver.Request r : received) {
                  JsonObject body = r.json();
                  assertThat(r.header("X-Token")).isEqualTo("t0k3n");
                  assertThat(body.getBoolean("success")).isTrue();
                  assertThat(body.getString("id")).isEqualTo(id);
                  assertThat(body.getString("webhookId")).isEqualTo(r.header("X-Fetchbus-Delivery"));
                  assertThat(body.getJsonObject("metadata")).isEqualTo(new JsonObject().put("job", "blog"));
                  assertThat(body.fieldNames()).containsExactlyInAnyOrder("success", "type", "id", "webhookId", "data",
                      "metadata");
                }
              });
              return v;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a batch scrape's webhook, given as a URL, gets batch_scrape.started, .page and .completed")
  void batchWebhook(VertxTestContext ctx) {
    deploy(new JsonObject())
        .compose(v -> FirecrawlJobsTest.start(fb, "/v1/batch/scrape", new JsonObject()
            .put("urls", new JsonArray().add(site.url("/docs/a")).add(site.url("/docs/b")))
            .put("webhook", receiver.url("/hook"))))
        .compose(id -> Poll.until(vertx, () -> Future.succeededFuture(receiver.received().stream()
                .anyMatch(r -> "batch_scrape.completed".equals(r.json().getString("type")))))
            .map(v -> {
              ctx.verify(() -> {
                assertThat(receiver.received().stream().map(r -> r.json().getString("type")).sorted().toList())
                    .containsExactly("batch_scrape.completed", "batch_scrape.page", "batch_scrape.page",
                        "batch_scrape.started");
                assertThat(receiver.received()).allSatisfy(r -> assertThat(r.json().getString("id")).isEqualTo(id));
              });
              return v;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("the status WebSocket catches up, sends each later page as a document, and closes 1000 {type: done}")
  void watchCrawl(VertxTestContext ctx) {
    deploy(new JsonObject())
        .compose(v -> {
          site.hold();
          return FirecrawlJobsTest.start(fb, "/v2/crawl", new JsonObject().put("url", site.url("/"))
              .put("sitemap", "skip").put("scrapeOptions", new JsonObject().put("formats", new JsonArray().add("markdown"))));
        })
        .compose(id -> Poll.until(vertx, () -> Future.succeededFuture(site.heldCount() > 0))
            .compose(v -> watch("/v2/crawl/" + id, site::release)))
        .onComplete(ctx.succeeding(watched -> ctx.verify(() -> {
          assertThat(watched.subProtocol()).as("the key, named back, as the SDKs' WebSocket wants").isEqualTo(KEY);
          assertThat(watched.code()).isEqualTo((short) 1000);
          assertThat(new JsonObject(watched.reason())).isEqualTo(new JsonObject().put("type", "done"));
          JsonObject catchup = watched.messages().get(0);
          assertThat(catchup.getString("type")).isEqualTo("catchup");
          assertThat(catchup.getJsonObject("data").getString("status")).isEqualTo("scraping");
          assertThat(watched.messages().subList(1, watched.messages().size()))
              .allSatisfy(m -> assertThat(m.getString("type")).isEqualTo("document"))
              .isNotEmpty();
          assertThat(watched.documentPaths()).isEqualTo(DocsSite.reachable("/", p -> true));
          assertThat(watched.messages().get(1).getJsonObject("data").getString("markdown")).contains("Words of");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a finished job's socket sends everything in the catch-up and closes; an unknown job closes 1008; a "
      + "wrong key is refused at the handshake; each socket gives its request slot back when it closes")
  void watchEdges(VertxTestContext ctx) {
    // Two requests in progress at most: were a closed socket's slot kept, the third socket would be refused.
    deploy(new JsonObject().put("limits", new JsonObject().put("maxInFlightRequests", 2)))
        .compose(v -> FirecrawlJobsTest.start(fb, "/v1/batch/scrape", new JsonObject()
            .put("urls", new JsonArray().add(site.url("/docs/a")))))
        .compose(id -> FirecrawlJobsTest.finished(fb, "/v1/crawl/" + id)
            .compose(status -> watch("/v1/crawl/" + id, () -> { }))
            .compose(first -> watch("/v2/batch/scrape/" + id, () -> { })
                .compose(second -> watch("/v2/crawl/" + id, () -> { })
                .compose(third -> watch("/v2/crawl/0b9d2a47-6f5e-4d0a-9a53-4a8f5bb4c7a1", () -> { })
                    .compose(unknown -> connect("/v2/crawl/" + id, "wrong").map(ws -> (Throwable) null)
                        .otherwise(err -> err)
                        .map(refused -> {
                          ctx.verify(() -> {
                            for (Watched w : List.of(first, second, third)) {
                              assertThat(w.code()).isEqualTo((short) 1000);
                              assertThat(w.messages()).hasSize(1);
                              assertThat(w.messages().get(0).getJsonObject("data").getString("status"))
                                  .isEqualTo("completed");
                              assertThat(w.documentPaths()).containsExactly("/docs/a");
                            }
                            assertThat(unknown.code()).isEqualTo((short) 1008);
                            assertThat(new JsonObject(unknown.reason()).getString("error")).isEqualTo("Job not found");
                            assertThat(refused).as("a wrong key is no WebSocket").isNotNull();
                            assertThat(refused.getMessage()).contains("401");
                          });
                          return refused;
                        }))))))
        .onComplete(ctx.succeedingThenComplete());
  }
}
