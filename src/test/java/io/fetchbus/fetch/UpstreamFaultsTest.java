package io.fetchbus.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.RawUpstream;
import io.fetchbus.support.TestDns;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestVertx;
import io.fetchbus.support.Upstream;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.dns.AddressResolverOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Hostile and broken upstreams: each answers a precise problem, is recorded as a page, and the service stays up. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class UpstreamFaultsTest extends TestBase {
  private static final JsonObject TIGHT = new JsonObject().put("fetch", new JsonObject()
      .put("idleTimeoutMs", 400).put("firstByteTimeoutMs", 400).put("timeoutMs", 1200).put("maxBodyBytes", 100_000).put("maxRedirects", 3)
      .put("retry", new JsonObject().put("max", 0)));

  /** A second Vert.x instance, for the tests that need other instance-wide settings. */
  private Vertx other;

  private Socket refusing;

  @AfterEach
  void closeOther(VertxTestContext ctx) throws Exception {
    if (refusing != null) {
      refusing.close();
    }
    (other == null ? Future.<Void>succeededFuture() : other.close()).onComplete(ctx.succeedingThenComplete());
  }

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    deployWithUpstream(TIGHT).onComplete(ctx.succeedingThenComplete());
  }

  /**
   * POSTs {@code url}, checks the problem, checks that the attempt was stored as a page with the error, and that
   * a good page still fetches afterwards.
   */
  private void expectRecordedFailure(ServiceUnderTest service, String url, int status, String type, String detail,
                                     VertxTestContext ctx) {
    service.postFetch(new JsonObject().put("url", url))
        .compose(resp -> {
          ctx.verify(() -> {
            assertThat(resp.statusCode()).isEqualTo(status);
            assertThat(resp.getHeader("Content-Type")).isEqualTo("application/problem+json");
            assertThat(resp.bodyAsJsonObject().getString("type")).isEqualTo(type);
            assertThat(resp.bodyAsJsonObject().getString("detail")).contains(detail);
            assertThat(resp.bodyAsJsonObject().getString("instance")).startsWith("/v1/pages/");
          });
          String instance = resp.bodyAsJsonObject().getString("instance");
          return service.get(instance).compose(page -> service.get(instance + "/content").map(content -> List.of(page, content)));
        })
        .compose(recorded -> service.postFetch(new JsonObject().put("url", up.url("/page/after-fault")))
            .map(after -> {
              ctx.verify(() -> {
                JsonObject page = recorded.get(0).bodyAsJsonObject();
                assertThat(page.getString("url")).isEqualTo(url);
                assertThat(page.getString("error")).contains(detail);
                assertThat(page.getValue("status")).isNull();
                assertThat(page.getValue("sha256")).isNull();
                assertThat(recorded.get(1).statusCode()).isEqualTo(404);
                assertThat(after.statusCode()).isEqualTo(201);
              });
              return after;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("connection refused answers 502 and is recorded")
  void connectionRefused(VertxTestContext ctx) throws Exception {
    // A port bound by this test but not listening: connections to it are refused, and no one else can take it.
    refusing = new Socket();
    refusing.bind(new InetSocketAddress("127.0.0.1", 0));
    int port = refusing.getLocalPort();
    expectRecordedFailure(fb, "http://127.0.0.1:" + port + "/", 502, "/problems/connect-failed",
        "could not connect to 127.0.0.1:" + port, ctx);
  }

  @Test
  @DisplayName("a host that does not resolve answers 502 and is recorded")
  void dnsFailure(VertxTestContext ctx) {
    // The resolver is fixed when a Vert.x instance is built, so this test builds one (on the test thread).
    TestDns dns = TestDns.start(vertx, Map.of()).await();
    other = TestVertx.create(new VertxOptions().setAddressResolverOptions(new AddressResolverOptions()
        .addServer("127.0.0.1:" + dns.port()).setQueryTimeout(2000).setMaxQueries(2).setHostsValue(Buffer.buffer(""))));
    ServiceUnderTest.deploy(other, TIGHT)
        .onComplete(ctx.succeeding(service -> expectRecordedFailure(service, "http://no-such-host.fetchbus.test/",
            502, "/problems/dns-failure", "could not resolve host no-such-host.fetchbus.test", ctx)));
  }

  @Test
  @DisplayName("a server that accepts and never answers times out with 504 and is recorded")
  void neverAnswers(VertxTestContext ctx) {
    expectRecordedFailure(fb, up.url("/hang"), 504, "/problems/idle-timeout", "sent no response within 400 ms", ctx);
  }

  @Test
  @DisplayName("a server that stops sending in the middle of a body times out with 504 after idleTimeoutMs, before the deadline")
  void stallsMidBody(VertxTestContext ctx) {
    expectRecordedFailure(fb, up.url("/stall"), 504, "/problems/idle-timeout", "sent nothing for 400 ms (fetch.idleTimeoutMs)", ctx);
  }

  @Test
  @DisplayName("a server dripping one byte at a time cannot extend the overall deadline: 504")
  void dripCannotExtendDeadline(VertxTestContext ctx) {
    expectRecordedFailure(fb, up.url("/drip"), 504, "/problems/upstream-timeout", "within 1200 ms", ctx);
  }

  @Test
  @DisplayName("a body over the limit without Content-Length is cut off while streaming: 413")
  void bodyOverLimitStreaming(VertxTestContext ctx) {
    expectRecordedFailure(fb, up.url("/big?bytes=50000000"), 413, "/problems/too-large", "exceeds the limit of 100000 bytes", ctx);
  }

  @Test
  @DisplayName("a declared Content-Length over the limit is refused before reading: 413")
  void declaredLengthOverLimit(VertxTestContext ctx) {
    expectRecordedFailure(fb, up.url("/big?bytes=200000&declare=200000"), 413, "/problems/too-large", "exceeds the limit", ctx);
  }

  @Test
  @DisplayName("more redirects than fetch.maxRedirects answer 502 and are recorded")
  void tooManyRedirects(VertxTestContext ctx) {
    expectRecordedFailure(fb, up.url("/redirect/5"), 502, "/problems/too-many-redirects", "more than 3 redirects", ctx);
  }

  @Test
  @DisplayName("a redirect loop answers 502 and is recorded")
  void redirectLoop(VertxTestContext ctx) {
    expectRecordedFailure(fb, up.url("/loop/a"), 502, "/problems/redirect-loop", "redirects back to", ctx);
  }

  @Test
  @DisplayName("a connection closed before the announced Content-Length answers 502 and is recorded, not stored")
  void truncatedBody(VertxTestContext ctx) {
    expectRecordedFailure(fb, up.url("/truncated"), 502, "/problems/connection-closed",
        "closed the connection before the response was complete", ctx);
  }

  @Test
  @DisplayName("an absurdly long upstream header value is cut, and the page is still stored")
  void longHeaderValue(VertxTestContext ctx) {
    fb.postFetch(new JsonObject().put("url", up.url("/long-type")))
        .onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
          assertThat(resp.statusCode()).isEqualTo(201);
          assertThat(resp.bodyAsJsonObject().getString("contentType")).hasSize(HttpFetcher.MAX_HEADER_VALUE);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("past fetch.maxInFlight fetches wait in a bounded queue; when it is full a fetch is refused at once with 429")
  void inFlightBound(VertxTestContext ctx) {
    // The bound is shared by the fetch verticles of a Vert.x instance: a new instance gets the new bound.
    other = TestVertx.create();
    ServiceUnderTest.deploy(other, new JsonObject().put("fetch", new JsonObject().put("maxInFlight", 1).put("perHostQueue", 1)))
        .compose(limited -> {
          Future<HttpResponse<Buffer>> held = limited.postFetch(new JsonObject().put("url", up.url("/gate/held")));
          // Once the first fetch holds the only slot and a second waits in the queue, a third must be refused.
          Promise<HttpResponse<Buffer>> refused = Promise.promise();
          List<Future<HttpResponse<Buffer>>> queued = new java.util.ArrayList<>();
          long poll = vertx.setPeriodic(20, id -> {
            if (up.hits("/gate/held") == 1 && queued.isEmpty()) {
              queued.add(limited.postFetch(new JsonObject().put("url", up.url("/gate/queued"))));
              vertx.setPeriodic(20, id2 -> limited.vertx.eventBus().<JsonObject>request("fetchbus.fetch.cache.stats", new JsonObject())
                  .onSuccess(stats -> {
                    if (stats.body().getLong("misses") == 2 && !refused.future().isComplete()) {
                      vertx.cancelTimer(id2);
                      vertx.cancelTimer(id);
                      limited.postFetch(new JsonObject().put("url", up.url("/page/refused"))).onComplete(refused);
                    }
                  }));
            }
          });
          return refused.future().compose(second -> {
            ctx.verify(() -> {
              assertThat(second.statusCode()).isEqualTo(429);
              assertThat(second.getHeader("Retry-After")).isNotNull();
              assertThat(second.bodyAsJsonObject().getString("type")).isEqualTo("/problems/limited");
              assertThat(second.bodyAsJsonObject().containsKey("instance")).isFalse();
              assertThat(up.hits("/page/refused")).isZero();
            });
            up.openGate();
            return held;
          }).compose(first -> {
            // The queued fetch starts once the first one frees the slot, and reaches the gate.
            vertx.setPeriodic(20, id -> {
              if (up.hits("/gate/queued") == 1) {
                vertx.cancelTimer(id);
                up.openGate();
              }
            });
            return queued.get(0).map(second -> {
              ctx.verify(() -> {
                assertThat(first.statusCode()).isEqualTo(201);
                assertThat(second.statusCode()).isEqualTo(201);
              });
              vertx.cancelTimer(poll);
              return second;
            });
          });
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a gzip bomb is decompressed as it streams and cut at the limit on decompressed bytes: 413")
  void gzipBomb(VertxTestContext ctx) {
    expectRecordedFailure(fb, up.url("/gzip-bomb"), 413, "/problems/too-large", "exceeds the limit of 100000 bytes", ctx);
  }

  @Test
  @DisplayName("a brotli bomb is cut at the limit on decompressed bytes too: 413")
  void brotliBomb(VertxTestContext ctx) {
    expectRecordedFailure(fb, up.url("/brotli-bomb"), 413, "/problems/too-large", "exceeds the limit of 100000 bytes", ctx);
  }

  @Test
  @DisplayName("a brotli-compressed page is stored decompressed")
  void brotlied(VertxTestContext ctx) {
    fb.postFetch(new JsonObject().put("url", up.url("/brotlied")))
        .onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
          assertThat(resp.bodyAsJsonObject().getString("title")).isEqualTo("Brotli");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a gzip-compressed page is stored decompressed")
  void gzipped(VertxTestContext ctx) {
    fb.postFetch(new JsonObject().put("url", up.url("/gzipped")))
        .compose(resp -> fb.get(resp.getHeader("Location") + "/content").map(content -> List.of(resp, content)))
        .onComplete(ctx.succeeding((List<HttpResponse<Buffer>> both) -> ctx.verify(() -> {
          assertThat(both.get(0).bodyAsJsonObject().getString("title")).isEqualTo("Compressed");
          assertThat(both.get(1).bodyAsString()).isEqualTo(Upstream.html("Compressed"));
          ctx.completeNow();
        })));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "/bad-status, /problems/bad-response",
      "/huge-header, /problems/bad-response",
      "/bad-chunked, /problems/bad-response",
      "/cut-chunked, /problems/connection-closed"})
  @DisplayName("malformed HTTP is a classified 502, recorded on the page")
  void malformedHttp(String path, String type, VertxTestContext ctx) {
    RawUpstream.start(vertx).onComplete(ctx.succeeding(raw ->
        expectRecordedFailure(fb, raw.url(path), 502, type, "", ctx)));
  }

  @Test
  @DisplayName("a body just under the limit is stored whole")
  void bodyUnderLimit(VertxTestContext ctx) {
    fb.postFetch(new JsonObject().put("url", up.url("/big?bytes=99000")))
        .compose(resp -> fb.get(resp.getHeader("Location") + "/content").map(content -> List.of(resp, content)))
        .onComplete(ctx.succeeding((List<HttpResponse<Buffer>> both) -> ctx.verify(() -> {
          assertThat(both.get(0).statusCode()).isEqualTo(201);
          assertThat(both.get(0).bodyAsJsonObject().getLong("bytes")).isEqualTo(99000);
          assertThat(both.get(1).body().length()).isEqualTo(99000);
          ctx.completeNow();
        })));
  }
}
