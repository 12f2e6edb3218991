package io.fetchbus.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.metrics.HttpServerMetrics;
import io.vertx.core.spi.observability.HttpRequest;
import io.vertx.core.spi.observability.HttpResponse;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MetricsNaming;
import io.vertx.micrometer.impl.meters.LongGauges;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The REST server's {@code vertx_http_server_*} series, the same as Vert.x Micrometer's (names, help, labels
 * {@code method}, {@code code} and {@code route}, meter types), with each request's meters looked up once per method,
 * status and route instead of at every request: Vert.x 5 builds, hashes and compares a Micrometer meter id five times
 * per request, which was 15% of a cache hit's event-loop time. {@link MetricsSetup} installs it for the labels it
 * enables (no {@code local}, {@code remote} or {@code path} label) and no custom tags.
 * <p>
 * Bounded: methods outside the standard ones are recorded as {@code OTHER} (as {@link MetricsSetup}'s filter does),
 * and routes are the router's templates; past {@link #MAX_CACHED} combinations, meters are looked up each time.
 */
final class HttpServerMeters implements HttpServerMetrics<HttpServerMeters.Request, LongAdder, Object> {
  static final int MAX_CACHED = 4096;
  /** The HTTP methods that keep their name in the {@code method} label; anything else a client invents is OTHER. */
  static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE",
      "CONNECT");
  /** The socket metric: every connection has the same (empty) labels, so one object stands for each. */
  private static final Object CONNECTION = new Object();

  private final MeterRegistry registry;
  private final MetricsNaming names;
  private final LongGauges longGauges;
  private final LongAdder connections;
  private final Counter bytesRead;
  private final Counter bytesWritten;
  private final Map<String, MethodMeters> byMethod = new ConcurrentHashMap<>();
  private final Map<ResponseKey, ResponseMeters> byResponse = new ConcurrentHashMap<>();

  HttpServerMeters(MeterRegistry registry, MetricsNaming naming, LongGauges longGauges) {
    this.registry = registry;
    this.names = naming;
    // As Vert.x's net server metrics, without the local or remote label. LongGauges is Vert.x Micrometer's holder of
    // LongAdder-backed gauges (an impl package), so that these gauges are made as Vert.x's own are.
    connections = longGauges.builder(names.getNetActiveConnections(), LongAdder::doubleValue)
        .description("Number of opened connections to the server").register(registry);
    bytesRead = Counter.builder(names.getNetBytesRead()).description("Number of bytes received by the server")
        .register(registry);
    bytesWritten = Counter.builder(names.getNetBytesWritten()).description("Number of bytes sent by the server")
        .register(registry);
    this.longGauges = longGauges;
  }

  @Override
  public Object connected(SocketAddress remoteAddress, String remoteName) {
    connections.increment();
    return CONNECTION;
  }

  @Override
  public void disconnected(Object connection, SocketAddress remoteAddress) {
    connections.decrement();
  }

  @Override
  public void bytesRead(Object connection, SocketAddress remoteAddress, long numberOfBytes) {
    bytesRead.increment(numberOfBytes);
  }

  @Override
  public void bytesWritten(Object connection, SocketAddress remoteAddress, long numberOfBytes) {
    bytesWritten.increment(numberOfBytes);
  }

  @Override
  public void exceptionOccurred(Object connection, SocketAddress remoteAddress, Throwable t) {
    // Registered when first needed, as Vert.x does; errors are rare, so it is looked up each time.
    Counter.builder(names.getNetErrorCount()).description("Number of errors").register(registry).increment();
  }

  @Override
  public Request requestBegin(Object connection, HttpRequest request) {
    return begin(request.method());
  }

  @Override
  public Request responsePushed(Object connection, HttpMethod method, String uri, HttpResponse response) {
    return begin(method);
  }

  private Request begin(HttpMethod method) {
    String name = method.name();
    MethodMeters meters = byMethod.get(name);
    if (meters == null) {
      meters = byMethod.computeIfAbsent(METHODS.contains(name) ? name : "OTHER", MethodMeters::new);
    }
    meters.active.increment();
    return new Request(meters, System.nanoTime());
  }

  @Override
  public void requestRouted(Request request, String route) {
    if (route != null) {
      request.route = route;
    }
  }

  @Override
  public void requestReset(Request request) {
    // Registered when first needed, as Vert.x does; resets are rare, so it is looked up each time.
    Counter.builder(names.getHttpRequestResetsCount()).description("Number of request resets")
        .tags(Label.HTTP_METHOD.toString(), request.method.name).register(registry).increment();
    request.method.active.decrement();
    request.reset = true;
  }

  @Override
  public void requestEnd(Request request, HttpRequest httpRequest, long bytesRead) {
    request.method.requestBytes.record(bytesRead);
    request.requestEnded = true;
    if (!request.reset && request.responseEnded) {
      request.method.active.decrement();
    }
  }

  @Override
  public void responseEnd(Request request, HttpResponse response, long bytesWritten) {
    ResponseMeters meters = response(new ResponseKey(request.method.name, response.statusCode(), request.route));
    meters.count.increment();
    meters.time.record(System.nanoTime() - request.start, TimeUnit.NANOSECONDS);
    meters.bytes.record(bytesWritten);
    request.responseEnded = true;
    if (!request.reset && request.requestEnded) {
      request.method.active.decrement();
    }
  }

  @Override
  public LongAdder connected(Object connection, Request request, ServerWebSocket webSocket) {
    // Registered when first needed, as Vert.x does, and looked up at each upgrade (one per connection).
    LongAdder webSockets = longGauges.builder(names.getHttpActiveWsConnections(), LongAdder::doubleValue)
        .description("Number of websockets currently opened").register(registry);
    webSockets.increment();
    return webSockets;
  }

  @Override
  public void disconnected(LongAdder webSocket) {
    webSocket.decrement();
  }

  private ResponseMeters response(ResponseKey key) {
    ResponseMeters meters = byResponse.get(key);
    if (meters == null) {
      meters = byResponse.size() < MAX_CACHED ? byResponse.computeIfAbsent(key, ResponseMeters::new)
          : new ResponseMeters(key);
    }
    return meters;
  }

  /** The meters of a method: requests in progress, request sizes. */
  private final class MethodMeters {
    final String name;
    final LongAdder active;
    final DistributionSummary requestBytes;

    MethodMeters(String name) {
      this.name = name;
      Tags tags = Tags.of(Label.HTTP_METHOD.toString(), name);
      active = longGauges.builder(names.getHttpActiveRequests(), LongAdder::doubleValue)
          .description("Number of requests being processed").tags(tags).register(registry);
      requestBytes = DistributionSummary.builder(names.getHttpRequestBytes()).description("Size of requests in bytes")
          .tags(tags).register(registry);
    }
  }

  /** What a response's meters are labelled with. A request no route matched has the empty route, as in Vert.x. */
  private record ResponseKey(String method, int code, String route) {}

  /** The meters of a method, status and route: responses, their times and sizes. */
  private final class ResponseMeters {
    final Counter count;
    final Timer time;
    final DistributionSummary bytes;

    ResponseMeters(ResponseKey key) {
      Tags tags = Tags.of(Label.HTTP_METHOD.toString(), key.method(), Label.HTTP_ROUTE.toString(), key.route(),
          Label.HTTP_CODE.toString(), String.valueOf(key.code()));
      count = Counter.builder(names.getHttpRequestsCount()).description("Number of processed requests").tags(tags)
          .register(registry);
      time = Timer.builder(names.getHttpResponseTime()).description("Request processing time").tags(tags)
          .register(registry);
      bytes = DistributionSummary.builder(names.getHttpResponseBytes()).description("Size of responses in bytes")
          .tags(tags).register(registry);
    }
  }

  /** One request: its method's meters, when it began, the last route that matched it, how far it got. */
  static final class Request {
    private final MethodMeters method;
    private final long start;
    private String route = "";
    private boolean requestEnded;
    private boolean responseEnded;
    private boolean reset;

    private Request(MethodMeters method, long start) {
      this.method = method;
      this.start = start;
    }
  }
}
