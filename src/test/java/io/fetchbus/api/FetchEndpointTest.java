package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.Scrape;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.fetchbus.support.TestVertx;
import io.fetchbus.support.Upstream;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class FetchEndpointTest extends TestBase {

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    deployWithUpstream(new JsonObject()).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("POST /v1/fetch fetches, extracts, stores and answers 201 with the page record and its Location")
  void fetchStoresPage(VertxTestContext ctx) {
    String html = Upstream.html("Page a");
    fb.postFetch(new JsonObject().put("url", up.url("/page/a")))
        .compose(resp -> {
          ctx.verify(() -> {
            assertThat(resp.statusCode()).isEqualTo(201);
            JsonObject page = resp.bodyAsJsonObject();
            assertThat(resp.getHeader("Location")).isEqualTo("/v1/pages/" + page.getLong("id"));
            assertThat(page.getString("url")).isEqualTo(up.url("/page/a"));
            assertThat(page.getString("finalUrl")).isEqualTo(up.url("/page/a"));
            assertThat(page.getString("host")).isEqualTo("127.0.0.1");
            assertThat(page.getInteger("status")).isEqualTo(200);
            assertThat(page.getString("contentType")).isEqualTo("text/html; charset=utf-8");
            assertThat(page.getLong("bytes")).isEqualTo(html.length());
            assertThat(page.getString("sha256")).isEqualTo(sha256(html.getBytes()));
            assertThat(page.getString("title")).isEqualTo("Page a");
            assertThat(page.getInstant("fetchedAt")).isNotNull();
            assertThat(page.getLong("elapsedMs")).isNotNegative();
            assertThat(page.getBoolean("fromCache")).isFalse();
            assertThat(page.getJsonObject("headers").getString("etag")).isEqualTo("\"v1\"");
            assertThat(up.hits("/page/a")).isEqualTo(1);
          });
          return fb.get(resp.getHeader("Location")).map(r -> new Object[] {resp, r});
        })
        .compose(pair -> {
          HttpResponse<?> created = (HttpResponse<?>) pair[0];
          HttpResponse<?> got = (HttpResponse<?>) pair[1];
          ctx.verify(() -> {
            assertThat(got.statusCode()).isEqualTo(200);
            JsonObject expected = created.bodyAsJsonObject();
            assertThat(got.bodyAsJsonObject()).isEqualTo(expected);
          });
          return fb.get(created.getHeader("Location") + "/content");
        })
        .onComplete(ctx.succeeding(content -> ctx.verify(() -> {
          assertThat(content.statusCode()).isEqualTo(200);
          assertThat(content.getHeader("Content-Type")).isEqualTo("text/html; charset=utf-8");
          assertThat(content.bodyAsString()).isEqualTo(html);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("GET /v1/pages/{id}/content returns a binary body byte for byte with its original type")
  void binaryContent(VertxTestContext ctx) {
    fb.postFetch(new JsonObject().put("url", up.url("/binary")))
        .compose(resp -> fb.get(resp.getHeader("Location") + "/content"))
        .onComplete(ctx.succeeding(content -> ctx.verify(() -> {
          assertThat(content.getHeader("Content-Type")).isEqualTo("application/octet-stream");
          assertThat(content.body().getBytes()).isEqualTo(Upstream.binary().getBytes());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a second request within maxAgeSeconds is answered 200 from the memory cache, without an upstream hit")
  void memoryCacheHit(VertxTestContext ctx) {
    JsonObject req = new JsonObject().put("url", up.url("/page/cached")).put("maxAgeSeconds", 3600);
    fb.postFetch(req)
        .compose(first -> fb.postFetch(req).map(second -> List.of(first, second)))
        .compose(both -> fb.get("/v1/cache").map(resp -> resp.bodyAsJsonObject())
            .map(stats -> {
              ctx.verify(() -> {
                assertThat(both.get(0).statusCode()).isEqualTo(201);
                assertThat(both.get(0).bodyAsJsonObject().getBoolean("fromCache")).isFalse();
                assertThat(both.get(1).statusCode()).isEqualTo(200);
                assertThat(both.get(1).getHeader("Location")).isNull();
                assertThat(both.get(1).bodyAsJsonObject().getBoolean("fromCache")).isTrue();
                assertThat(both.get(1).bodyAsJsonObject().getLong("id"))
                    .isEqualTo(both.get(0).bodyAsJsonObject().getLong("id"));
                assertThat(up.hits("/page/cached")).isEqualTo(1);
                assertThat(stats.getLong("hits")).isEqualTo(1);
                assertThat(stats.getLong("entries")).isEqualTo(1);
                assertThat(stats.getLong("bytes")).isGreaterThan(0);
                // The default bound: a sixteenth of this JVM's heap (cache.maxBytes 0).
                assertThat(stats.getLong("maxBytes")).isEqualTo(Runtime.getRuntime().maxMemory() / 16);
              });
              return stats;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a memory-cache hit is answered without a store request: the page record of the fetch is remembered")
  void cacheHitReadsNoStore(VertxTestContext ctx) {
    JsonObject req = new JsonObject().put("url", up.url("/page/hot")).put("maxAgeSeconds", 3600);
    fb.postFetch(req)
        .compose(first -> storeReads().compose(before -> fb.postFetch(req).compose(second -> fb.postFetch(req))
            .compose(third -> storeReads().map(after -> {
              ctx.verify(() -> {
                assertThat(third.statusCode()).isEqualTo(200);
                assertThat(third.bodyAsJsonObject().getLong("id")).isEqualTo(first.bodyAsJsonObject().getLong("id"));
                assertThat(third.bodyAsJsonObject().getString("title")).isEqualTo(first.bodyAsJsonObject().getString("title"));
                assertThat(after).isEqualTo(before);
              });
              return null;
            }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  /** How many requests the store's page reads and saves have had, from this node's event-bus metrics. */
  private Future<Double> storeReads() {
    return storeReads(fb);
  }

  private static Future<Double> storeReads(ServiceUnderTest node) {
    return node.get("/metrics").map(resp -> {
      Scrape scrape = Scrape.parse(resp.bodyAsString());
      return scrape.value("vertx_eventbus_delivered_total", "address", "fetchbus.pages.get", "side", "local")
          + scrape.value("vertx_eventbus_delivered_total", "address", "fetchbus.pages.find", "side", "local")
          + scrape.value("vertx_eventbus_delivered_total", "address", "fetchbus.pages.save", "side", "local");
    });
  }

  @Test
  @DisplayName("without maxAgeSeconds every request fetches again, and an unchanged body is stored once")
  void noMaxAgeFetchesAgain(VertxTestContext ctx) {
    JsonObject req = new JsonObject().put("url", up.url("/page/again"));
    fb.postFetch(req)
        .compose(first -> fb.postFetch(req).map(second -> List.of(first, second)))
        .compose(both -> TestDatabase.count(vertx, "SELECT count(*) FROM contents").map(contents -> {
          ctx.verify(() -> {
            assertThat(both).allSatisfy(r -> assertThat(r.statusCode()).isEqualTo(201));
            assertThat(both.get(1).bodyAsJsonObject().getLong("id")).isGreaterThan(both.get(0).bodyAsJsonObject().getLong("id"));
            assertThat(up.hits("/page/again")).isEqualTo(2);
            assertThat(contents).isEqualTo(1);
          });
          return contents;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("with a cold memory cache, a copy in Postgres younger than maxAgeSeconds answers 200 without an upstream hit")
  void postgresSecondLevel(VertxTestContext ctx) {
    Vertx other = TestVertx.create();
    JsonObject req = new JsonObject().put("url", up.url("/page/second-level"));
    fb.postFetch(req)
        .compose(first -> ServiceUnderTest.deploy(other, new JsonObject())
            .compose(cold -> cold.postFetch(req.copy().put("maxAgeSeconds", 3600)))
            .map(second -> List.of(first, second)))
        .eventually(other::close)
        .onComplete(ctx.succeeding(both -> ctx.verify(() -> {
          assertThat(both.get(1).statusCode()).isEqualTo(200);
          assertThat(both.get(1).bodyAsJsonObject().getBoolean("fromCache")).isTrue();
          assertThat(both.get(1).bodyAsJsonObject().getLong("id")).isEqualTo(both.get(0).bodyAsJsonObject().getLong("id"));
          assertThat(up.hits("/page/second-level")).isEqualTo(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a copy served from Postgres warms the memory cache: the next request reads no store")
  void postgresCopyWarmsMemory(VertxTestContext ctx) {
    Vertx other = TestVertx.create();
    JsonObject req = new JsonObject().put("url", up.url("/page/warmed")).put("maxAgeSeconds", 3600);
    fb.postFetch(req)
        .compose(first -> ServiceUnderTest.deploy(other, new JsonObject()).compose(cold -> cold.postFetch(req)
            .compose(fromStore -> storeReads(cold).compose(before -> cold.postFetch(req)
                .compose(fromMemory -> storeReads(cold).map(after -> {
                  ctx.verify(() -> {
                    assertThat(fromStore.statusCode()).isEqualTo(200);
                    assertThat(fromMemory.statusCode()).isEqualTo(200);
                    assertThat(fromMemory.bodyAsJsonObject().getBoolean("fromCache")).isTrue();
                    assertThat(fromMemory.bodyAsJsonObject().getLong("id")).isEqualTo(first.bodyAsJsonObject().getLong("id"));
                    assertThat(after).isEqualTo(before);
                    assertThat(up.hits("/page/warmed")).isEqualTo(1);
                  });
                  return null;
                }))))))
        .eventually(other::close)
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("concurrent requests for one URL that miss the cache share a single upstream fetch and a single page")
  void singleFlight(VertxTestContext ctx) {
    int n = 5;
    JsonObject req = new JsonObject().put("url", up.url("/gate/shared"));
    AtomicInteger saves = new AtomicInteger();
    vertx.eventBus().addOutboundInterceptor(dc -> {
      if (Bus.PAGES_SAVE.equals(dc.message().address())) {
        saves.incrementAndGet();
      }
      dc.next();
    });
    List<Future<HttpResponse<Buffer>>> responses = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      responses.add(fb.postFetch(req));
    }
    // Open the gate only once every request has reached the fetch cache: one miss, the rest joined it.
    long poll = vertx.setPeriodic(20, id -> vertx.eventBus().<JsonObject>request(Bus.FETCH_CACHE_STATS, new JsonObject())
        .onSuccess(stats -> {
          if (stats.body().getLong("misses") + stats.body().getLong("joins") == n && up.hits("/gate/shared") == 1) {
            vertx.cancelTimer(id);
            up.openGate();
          }
        }));
    Future.all(responses)
        .compose(all -> TestDatabase.count(vertx, "SELECT count(*) FROM pages").map(pages -> {
          vertx.cancelTimer(poll);
          ctx.verify(() -> {
            List<HttpResponse<Buffer>> rs = all.list();
            assertThat(up.hits("/gate/shared")).isEqualTo(1);
            assertThat(rs).extracting(HttpResponse::statusCode).containsOnly(200, 201);
            assertThat(rs).filteredOn(r -> r.statusCode() == 201).hasSize(1);
            assertThat(rs).extracting(r -> r.bodyAsJsonObject().getLong("id")).containsOnly(rs.get(0).bodyAsJsonObject().getLong("id"));
            assertThat(pages).isEqualTo(1);
            assertThat(saves.get()).as("the body is sent to the store once").isEqualTo(1);
          });
          return pages;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("an upstream 404 is a successful fetch: the page is stored with status 404")
  void upstreamStatusIsRecorded(VertxTestContext ctx) {
    fb.postFetch(new JsonObject().put("url", up.url("/missing")))
        .onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
          assertThat(resp.statusCode()).isEqualTo(201);
          assertThat(resp.bodyAsJsonObject().getInteger("status")).isEqualTo(404);
          assertThat(resp.bodyAsJsonObject().getString("title")).isEqualTo("Not here");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a redirect chain is followed to its end and every hop is requested once")
  void redirectChain(VertxTestContext ctx) {
    fb.postFetch(new JsonObject().put("url", up.url("/redirect/3")))
        .onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
          assertThat(resp.statusCode()).isEqualTo(201);
          JsonObject page = resp.bodyAsJsonObject();
          assertThat(page.getString("url")).isEqualTo(up.url("/redirect/3"));
          assertThat(page.getString("finalUrl")).isEqualTo(up.url("/page/end"));
          assertThat(page.getString("title")).isEqualTo("Page end");
          assertThat(List.of("/redirect/3", "/redirect/2", "/redirect/1", "/page/end")).allSatisfy(p -> assertThat(up.hits(p)).isEqualTo(1));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("fetchbus.page.stored is published with the stored record, without the body")
  void pageStoredEvent(VertxTestContext ctx) {
    var consumer = vertx.eventBus().<JsonObject>consumer(Bus.PAGE_STORED);
    Future<JsonObject> event = Future.future(p -> consumer.handler(msg -> p.tryComplete(msg.body())));
    consumer.completion()
        .compose(v -> fb.postFetch(new JsonObject().put("url", up.url("/page/event"))))
        .compose(resp -> event.map(ev -> List.of(resp.bodyAsJsonObject(), ev)))
        .onComplete(ctx.succeeding(pair -> ctx.verify(() -> {
          JsonObject page = pair.get(0);
          JsonObject ev = pair.get(1);
          assertThat(ev.getLong("id")).isEqualTo(page.getLong("id"));
          assertThat(ev.getString("url")).isEqualTo(up.url("/page/event"));
          assertThat(ev.getString("title")).isEqualTo("Page event");
          assertThat(ev.containsKey("body")).isFalse();
          ctx.completeNow();
        })));
  }

  static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
