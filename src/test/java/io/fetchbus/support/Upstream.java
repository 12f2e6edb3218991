package io.fetchbus.support;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP server on 127.0.0.1 that plays the websites Fetchbus fetches, well-behaved or hostile, and counts
 * the requests each path received.
 */
public final class Upstream {
  private final Vertx vertx;
  private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
  private final List<Promise<Void>> gate = new ArrayList<>();
  private volatile boolean gateOpen;
  private HttpServer server;
  private volatile int robotsStatus = 404;
  private volatile String robotsBody = "";
  private final AtomicInteger concurrent = new AtomicInteger();
  private final AtomicInteger maxConcurrent = new AtomicInteger();
  private final List<Long> arrivals = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final Map<String, String> docs = new ConcurrentHashMap<>();
  private final Map<String, List<Long>> limitedArrivals = new ConcurrentHashMap<>();

  private Upstream(Vertx vertx) {
    this.vertx = vertx;
  }

  public static Future<Upstream> start(Vertx vertx) {
    Upstream up = new Upstream(vertx);
    return up.listen().map(up);
  }

  public String url(String path) {
    return "http://127.0.0.1:" + server.actualPort() + path;
  }

  public int port() {
    return server.actualPort();
  }

  public int hits(String path) {
    AtomicInteger n = hits.get(path);
    return n == null ? 0 : n.get();
  }

  /** What {@code /robots.txt} answers from now on (404, empty, by default; a negative status never answers). */
  public void robots(int status, String body) {
    robotsStatus = status;
    robotsBody = body;
  }

  /** The most requests {@code /slow/*} had in progress at once. */
  public int maxConcurrent() {
    return maxConcurrent.get();
  }

  /** When each request to {@code /slow/*} arrived, in milliseconds. */
  public List<Long> arrivals() {
    return List.copyOf(arrivals);
  }

  /** When each request to {@code /limited/<name>} arrived, in milliseconds. */
  public List<Long> limitedArrivals(String name) {
    return List.copyOf(limitedArrivals.getOrDefault(name, List.of()));
  }

  /** Lets every request held at {@code /gate/*} answer, and every later one at once. */
  public void openGateForGood() {
    gateOpen = true;
    openGate();
  }

  /** Lets every request held at {@code /gate/*} answer. */
  public void openGate() {
    synchronized (gate) {
      gate.forEach(Promise::tryComplete);
      gate.clear();
    }
  }

  /** Serves {@code html} (UTF-8) at {@code /doc/<name>} from now on; returns that path. */
  public String doc(String name, String html) {
    docs.put(name, html);
    return "/doc/" + name;
  }

  /** A page with metadata, navigation, an article and links, for the content formats. */
  public static final String RICH = """
      <!doctype html><html lang="en"><head><title>Rich page</title>
      <meta name="description" content="A page with everything">
      <meta property="og:title" content="Rich OG"><link rel="canonical" href="/rich">
      <script>var tracking = 1;</script><style>p { color: red }</style></head>
      <body><nav><a href="/home">Home menu</a></nav>
      <main><h1>Main heading</h1><p>First paragraph with <a href="/page/one#part">a link</a>.</p>
      <p>Second paragraph.</p></main>
      <footer>Footer text <a href="mailto:x@example.com">mail</a></footer></body></html>
      """;

  public static String html(String title) {
    return "<!doctype html><html><head><title>" + title + "</title></head><body><p>" + title + "</p></body></html>";
  }

  private Future<HttpServer> listen() {
    Router router = Router.router(vertx);
    router.route().handler(ctx -> {
      hits.computeIfAbsent(ctx.request().path(), k -> new AtomicInteger()).incrementAndGet();
      ctx.next();
    });
    router.get("/page/:name").handler(ctx -> ctx.response().putHeader("Content-Type", "text/html; charset=utf-8")
        .putHeader("ETag", "\"v1\"").end(html("Page " + ctx.pathParam("name"))));
    // Echoes the query string, so every distinct URL has a distinct body.
    router.get("/echo").handler(ctx -> ctx.response().putHeader("Content-Type", "text/html")
        .end(html("Echo " + ctx.request().query())));
    router.get("/binary").handler(ctx -> ctx.response().putHeader("Content-Type", "application/octet-stream")
        .end(binary()));
    router.get("/missing").handler(ctx -> ctx.response().setStatusCode(404).putHeader("Content-Type", "text/html")
        .end(html("Not here")));
    router.get("/redirect/:n").handler(this::redirectChain);
    router.get("/redirect-to").handler(ctx -> redirect(ctx, ctx.queryParams().get("target")));
    router.get("/loop/a").handler(ctx -> redirect(ctx, "/loop/b"));
    router.get("/loop/b").handler(ctx -> redirect(ctx, "/loop/a"));
    router.get("/big").handler(this::big);
    router.get("/hang").handler(ctx -> { /* accepts, never answers */ });
    // Sends the head and the start of a body, then nothing more (and never ends it).
    router.get("/stall").handler(ctx -> ctx.response().setChunked(true).putHeader("Content-Type", "text/html")
        .write("<html><body><p>the start of a page"));
    router.get("/drip").handler(this::drip);
    router.get("/gate/:name").handler(this::gated);
    // Conditional GET: 304 when If-None-Match carries the current ETag or If-Modified-Since its date.
    router.get("/validated/:name").handler(ctx -> {
      String etag = "\"" + ctx.pathParam("name") + "-v1\"";
      String date = "Tue, 01 Sep 2026 10:00:00 GMT";
      boolean etagMatch = etag.equals(ctx.request().getHeader("If-None-Match"));
      boolean dateMatch = date.equals(ctx.request().getHeader("If-Modified-Since"));
      if (etagMatch || dateMatch) {
        hits.computeIfAbsent("304 " + ctx.request().path(), k -> new AtomicInteger()).incrementAndGet();
        ctx.response().setStatusCode(304).end();
        return;
      }
      var resp = ctx.response().putHeader("Content-Type", "text/html");
      if (!ctx.pathParam("name").startsWith("dated")) {
        resp.putHeader("ETag", etag);
      }
      resp.putHeader("Last-Modified", date).end(html("Validated " + ctx.pathParam("name")));
    });
    // The Host header the request arrived with, as the page title.
    router.get("/host").handler(ctx -> ctx.response().putHeader("Content-Type", "text/html")
        .end(html(ctx.request().getHeader("Host"))));
    router.get("/doc/:name").handler(ctx -> {
      String html = docs.get(ctx.pathParam("name"));
      if (html == null) {
        ctx.response().setStatusCode(404).end();
      } else {
        ctx.response().putHeader("Content-Type", "text/html; charset=utf-8").end(html);
      }
    });
    router.get("/rich").handler(ctx -> ctx.response().putHeader("Content-Type", "text/html; charset=utf-8").end(RICH));
    // windows-1252 bytes, announced only by the meta tag.
    router.get("/latin").handler(ctx -> ctx.response().putHeader("Content-Type", "text/html")
        .end(Buffer.buffer("<html><head><meta charset=\"windows-1252\"><title>Caf\u00e9 \u2013 cr\u00e8me</title></head><body><p>\u00e9t\u00e9</p></body></html>"
            .getBytes(java.nio.charset.Charset.forName("windows-1252")))));
    router.get("/gzip-bomb").handler(ctx -> ctx.response().putHeader("Content-Type", "text/plain")
        .putHeader("Content-Encoding", "gzip").end(GZIP_BOMB));
    router.get("/brotli-bomb").handler(ctx -> ctx.response().putHeader("Content-Type", "text/plain")
        .putHeader("Content-Encoding", "br").end(BROTLI_BOMB));
    router.get("/brotlied").handler(ctx -> ctx.response().putHeader("Content-Type", "text/html")
        .putHeader("Content-Encoding", "br").end(brotli(html("Brotli").getBytes(java.nio.charset.StandardCharsets.UTF_8))));
    router.get("/gzipped").handler(ctx -> ctx.response().putHeader("Content-Type", "text/html")
        .putHeader("Content-Encoding", "gzip").end(gzip(html("Compressed"))));
    router.get("/robots.txt").handler(ctx -> {
      if (robotsStatus > 0) { // a negative status: accept and never answer
        ctx.response().setStatusCode(robotsStatus).putHeader("Content-Type", "text/plain").end(robotsBody);
      }
    });
    // Answers after 150 ms, counting how many requests are in progress at once.
    router.get("/slow/:name").handler(ctx -> {
      arrivals.add(System.currentTimeMillis());
      int now = concurrent.incrementAndGet();
      maxConcurrent.accumulateAndGet(now, Math::max);
      vertx.setTimer(150, t -> {
        concurrent.decrementAndGet();
        ctx.response().putHeader("Content-Type", "text/html").end(html("Slow " + ctx.pathParam("name")));
      });
    });
    // 503 for the first ?fail=N requests of a path, then 200.
    router.get("/flaky/:name").handler(ctx -> {
      int n = hits(ctx.request().path());
      int fail = Integer.parseInt(ctx.queryParams().get("fail"));
      if (n <= fail) {
        ctx.response().setStatusCode(503).end("try again");
      } else {
        ctx.response().putHeader("Content-Type", "text/html").end(html("Flaky " + ctx.pathParam("name")));
      }
    });
    // 429 with Retry-After: 1 on the first request, then 200.
    router.get("/busy").handler(ctx -> {
      if (hits("/busy") == 1) {
        ctx.response().setStatusCode(429).putHeader("Retry-After", "1").end("slow down");
      } else {
        ctx.response().putHeader("Content-Type", "text/html").end(html("Busy no more"));
      }
    });
    // 429 with Retry-After: ?after= seconds for the first ?times=N requests of a path, then 200.
    router.get("/limited/:name").handler(ctx -> {
      limitedArrivals.computeIfAbsent(ctx.pathParam("name"), k -> new java.util.concurrent.CopyOnWriteArrayList<>())
          .add(System.currentTimeMillis());
      if (hits(ctx.request().path()) <= Integer.parseInt(ctx.queryParams().get("times"))) {
        ctx.response().setStatusCode(429).putHeader("Retry-After", ctx.queryParams().get("after")).end("not now");
      } else {
        ctx.response().putHeader("Content-Type", "text/html").end(html("Limited " + ctx.pathParam("name")));
      }
    });
    // Announces 1000 bytes, sends 500, then closes the connection.
    router.get("/truncated").handler(ctx -> {
      ctx.response().putHeader("Content-Type", "text/plain").putHeader("Content-Length", "1000").write("y".repeat(500))
          .onComplete(v -> ctx.request().connection().close());
    });
    router.get("/long-type").handler(ctx -> ctx.response().putHeader("Content-Type", "text/plain; x=" + "z".repeat(3000))
        .end("long type"));
    return vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").onSuccess(s -> server = s);
  }

  private void redirectChain(RoutingContext ctx) {
    int n = Integer.parseInt(ctx.pathParam("n"));
    redirect(ctx, n <= 1 ? "/page/end" : "/redirect/" + (n - 1));
  }

  private static void redirect(RoutingContext ctx, String location) {
    ctx.response().setStatusCode(302).putHeader("Location", location).end();
  }

  /** {@code ?bytes=N} of body, streamed in 8 KiB chunks; {@code &declare=M} sends a Content-Length of M (a lie). */
  private void big(RoutingContext ctx) {
    long bytes = Long.parseLong(ctx.queryParams().get("bytes"));
    String declared = ctx.queryParams().get("declare");
    HttpServerResponse resp = ctx.response().putHeader("Content-Type", "text/plain");
    if (declared != null) {
      resp.putHeader("Content-Length", declared);
    } else {
      resp.setChunked(true);
    }
    Buffer chunk = Buffer.buffer("x".repeat(8192));
    long[] sent = {0};
    Runnable[] pump = new Runnable[1];
    pump[0] = () -> {
      while (sent[0] < bytes && !resp.writeQueueFull() && !resp.closed()) {
        int n = (int) Math.min(chunk.length(), bytes - sent[0]);
        resp.write(n == chunk.length() ? chunk : chunk.getBuffer(0, n));
        sent[0] += n;
      }
      if (resp.closed()) {
        return;
      }
      if (sent[0] >= bytes) {
        resp.end();
      } else {
        resp.drainHandler(v -> pump[0].run());
      }
    };
    pump[0].run();
  }

  /** One byte every 100 ms, forever: never idle long enough for an idle timeout, only a deadline stops it. */
  private void drip(RoutingContext ctx) {
    HttpServerResponse resp = ctx.response().setChunked(true).putHeader("Content-Type", "text/plain");
    long timer = vertx.setPeriodic(100, id -> {
      if (!resp.closed()) {
        resp.write("x");
      }
    });
    resp.closeHandler(v -> vertx.cancelTimer(timer));
  }

  private void gated(RoutingContext ctx) {
    Promise<Void> open = Promise.promise();
    if (gateOpen) {
      open.complete();
    }
    synchronized (gate) {
      gate.add(open);
    }
    open.future().onComplete(v -> ctx.response().putHeader("Content-Type", "text/html")
        .end(html("Gate " + ctx.pathParam("name"))));
  }

  /** 10 MB of zeros, gzip-compressed to about 10 KB; built once, on the thread that first loads this class. */
  private static final Buffer GZIP_BOMB = gzipOfZeros(10 << 20);

  /** 10 MB of zeros, brotli-compressed to a few bytes. */
  private static final Buffer BROTLI_BOMB = brotli(new byte[10 << 20]);

  private static Buffer brotli(byte[] data) {
    try {
      com.aayushatharva.brotli4j.Brotli4jLoader.ensureAvailability();
      return Buffer.buffer(com.aayushatharva.brotli4j.encoder.Encoder.compress(data));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static Buffer gzipOfZeros(int size) {
    var out = new java.io.ByteArrayOutputStream();
    try (var gzip = new java.util.zip.GZIPOutputStream(out)) {
      byte[] zeros = new byte[64 * 1024];
      for (int written = 0; written < size; written += zeros.length) {
        gzip.write(zeros);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return Buffer.buffer(out.toByteArray());
  }

  private static Buffer gzip(String text) {
    var out = new java.io.ByteArrayOutputStream();
    try (var gzip = new java.util.zip.GZIPOutputStream(out)) {
      gzip.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return Buffer.buffer(out.toByteArray());
  }

  public static Buffer binary() {
    Buffer b = Buffer.buffer(512);
    for (int i = 0; i < 512; i++) {
      b.appendByte((byte) i);
    }
    return b;
  }
}
