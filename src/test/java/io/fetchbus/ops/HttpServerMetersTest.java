package io.fetchbus.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.Poll;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.micrometer.MicrometerMetricsFactory;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link HttpServerMeters} against Vert.x Micrometer's own HTTP server metrics: the same requests, over real
 * connections, to the same router, in two Vert.x instances, one with each, give the same {@code vertx_http_server_*}
 * series (names, help, types, labels) with the same counts and byte sums.
 */
class HttpServerMetersTest {

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  @DisplayName("the same vertx_http_server_* series and values as Vert.x Micrometer's, request for request")
  void sameSeriesAsVertxMicrometer() throws Exception {
    Vertx mine = MetricsSetup.vertxBuilder(new VertxOptions(), true).build();
    PrometheusMeterRegistry theirs = MetricsSetup.newRegistry();
    Vertx reference = Vertx.builder().with(new VertxOptions().setMetricsOptions(MetricsSetup.micrometerOptions()))
        .withMetrics(new MicrometerMetricsFactory(theirs)).build();
    try {
      List<String> a = exercise(mine, MetricsSetup.prometheus(mine).orElseThrow());
      List<String> b = exercise(reference, theirs);
      assertThat(a).isNotEmpty().containsExactlyInAnyOrderElementsOf(b);
      assertThat(a).contains("vertx_http_server_requests_total{code=\"200\",method=\"GET\",route=\"/a/:id\"} 3.0",
          "vertx_http_server_requests_total{code=\"201\",method=\"POST\",route=\"/b\"} 2.0",
          "vertx_http_server_requests_total{code=\"404\",method=\"GET\",route=\"\"} 1.0",
          "vertx_http_server_requests_total{code=\"200\",method=\"OTHER\",route=\"/a/:id\"} 1.0",
          "vertx_http_server_request_bytes_sum{method=\"POST\"} 22.0",
          "vertx_http_server_active_requests{method=\"GET\"} 0.0",
          "vertx_http_server_active_connections 0.0",
          "vertx_http_server_active_ws_connections 0.0");
    } finally {
      mine.close().await(30, TimeUnit.SECONDS);
      reference.close().await(30, TimeUnit.SECONDS);
    }
  }

  /** Serves and sends the same requests on {@code vertx}; the HTTP server's series once every connection closed. */
  private static List<String> exercise(Vertx vertx, PrometheusMeterRegistry registry) throws Exception {
    Router router = Router.router(vertx);
    router.route(HttpMethod.GET, "/a/:id").handler(ctx -> ctx.end("hello " + ctx.pathParam("id")));
    router.route(HttpMethod.valueOf("FOO"), "/a/:id").handler(ctx -> ctx.end("foo"));
    // The body handler on the POST route only, the one with a body.
    router.post("/b").handler(BodyHandler.create())
        .handler(ctx -> ctx.response().setStatusCode(201).end(ctx.body().buffer()));
    router.route("/ws").handler(ctx -> ctx.request().toWebSocket()
        .onSuccess(ws -> ws.writeTextMessage("hi")).onFailure(ctx::fail));
    Set<String> hosts = ConcurrentHashMap.newKeySet();
    HttpServer server = vertx.createHttpServer().requestHandler(req -> {
      hosts.add(String.valueOf(req.getHeader("Host")));
      router.handle(req);
    }).listen(0, "127.0.0.1")
        .await(30, TimeUnit.SECONDS);
    // The requests name one host whatever the port (Host and Origin headers): the byte counts of both runs agree.
    SocketAddress address = SocketAddress.inetSocketAddress(server.actualPort(), "127.0.0.1");
    // Sent one after the other from one event loop, as the service's own clients send. Sent from the test's thread,
    // one now and then was never written on a busy machine: the connection had carried the three before it and
    // stood idle, the client's future never completed (seen with ss and jstack; Vert.x 5.0.7).
    Promise<Void> sent = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> {
      HttpClient client = vertx.createHttpClient(new PoolOptions().setHttp1MaxSize(1));
      WebSocketClient ws = vertx.createWebSocketClient();
      BiFunction<HttpMethod, String, Future<Integer>> send = (method, uri) -> client.request(new RequestOptions()
              .setServer(address).setHost("fetchbus.test").setPort(80).setMethod(method).setURI(uri))
          .compose(req -> method == HttpMethod.POST ? req.send(Buffer.buffer("hello world")) : req.send())
          .compose(resp -> resp.body().map(body -> resp.statusCode()));
      Future<?> chain = Future.succeededFuture();
      for (String uri : List.of("/a/1", "/a/2", "/a/3", "/missing")) {
        chain = chain.compose(x -> send.apply(HttpMethod.GET, uri));
      }
      WebSocketConnectOptions upgrade = new WebSocketConnectOptions().setHost("127.0.0.1")
          .setPort(server.actualPort()).setURI("/ws").setAllowOriginHeader(false).putHeader("Host", "fetchbus.test");
      chain.compose(x -> send.apply(HttpMethod.POST, "/b"))
          .compose(x -> send.apply(HttpMethod.POST, "/b"))
          .compose(x -> send.apply(HttpMethod.valueOf("FOO"), "/a/9"))
          .compose(x -> ws.connect(upgrade))
          .compose(socket -> socket.close())
          .compose(x -> client.close())
          .compose(x -> ws.close())
          .onComplete(sent);
    });
    sent.future().await(60, TimeUnit.SECONDS);
    Poll.until(vertx, () -> Future.succeededFuture(series(registry).contains("vertx_http_server_active_connections 0.0")
        && series(registry).contains("vertx_http_server_active_ws_connections 0.0"))).await(60, TimeUnit.SECONDS);
    server.close().await(30, TimeUnit.SECONDS);
    assertThat(hosts).as("the Host of every request, the WebSocket's too").containsExactly("fetchbus.test");
    return series(registry);
  }

  /** The HTTP server's lines of a scrape, but for the times, which differ from run to run. */
  private static List<String> series(PrometheusMeterRegistry registry) {
    return registry.scrape().lines()
        .filter(l -> l.contains("vertx_http_server_"))
        .filter(l -> !l.startsWith("vertx_http_server_response_time_seconds_sum")
            && !l.startsWith("vertx_http_server_response_time_seconds_max"))
        .toList();
  }
}
