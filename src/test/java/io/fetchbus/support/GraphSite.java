package io.fetchbus.support;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A website on 127.0.0.1 made of a link graph the test writes down (path -> the paths it links to, the seed
 * {@code /} first), so that a test can force the order in which a crawl discovers pages: a page can answer late
 * (held until the test releases it) or fail first (503) and succeed later. {@link #within} is the breadth-first
 * answer a crawl must match whatever that order. Every request is counted by path.
 */
public final class GraphSite {
  private final Vertx vertx;
  private final Map<String, List<String>> graph;
  private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> failuresLeft = new ConcurrentHashMap<>();
  private final Set<String> late = ConcurrentHashMap.newKeySet();
  private final List<Runnable> held = new ArrayList<>();
  private HttpServer server;

  private GraphSite(Vertx vertx, Map<String, List<String>> graph) {
    this.vertx = vertx;
    this.graph = graph;
  }

  public static Future<GraphSite> start(Vertx vertx, Map<String, List<String>> graph) {
    GraphSite site = new GraphSite(vertx, new LinkedHashMap<>(graph));
    return vertx.createHttpServer().requestHandler(site::handle).listen(0, "127.0.0.1").map(s -> {
      site.server = s;
      return site;
    });
  }

  private void handle(HttpServerRequest req) {
    String path = req.path();
    hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
    if (path.equals("/robots.txt")) {
      req.response().putHeader("Content-Type", "text/plain").end("User-agent: *\nDisallow:\n");
      return;
    }
    List<String> links = graph.get(path);
    if (links == null) {
      req.response().setStatusCode(404).end();
      return;
    }
    AtomicInteger failures = failuresLeft.get(path);
    if (failures != null && failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      req.response().setStatusCode(503).end("busy, try again");
      return;
    }
    StringBuilder html = new StringBuilder("<!doctype html><html><head><title>").append(path)
        .append("</title></head><body><ul>");
    links.forEach(link -> html.append("<li><a href=\"").append(link).append("\">").append(link).append("</a></li>"));
    String page = html.append("</ul></body></html>").toString();
    Runnable answer = () -> req.response().putHeader("Content-Type", "text/html; charset=utf-8").end(page);
    synchronized (held) {
      if (late.contains(path)) {
        Context context = vertx.getOrCreateContext();
        held.add(() -> context.runOnContext(v -> answer.run()));
        return;
      }
    }
    answer.run();
  }

  /** From now on, {@code path} answers only once {@link #release} is called: late, by as long as the test wants. */
  public GraphSite answerLate(String path) {
    late.add(path);
    return this;
  }

  /** The first {@code n} requests for {@code path} are answered 503; the next ones as usual. */
  public GraphSite failFirst(String path, int n) {
    failuresLeft.put(path, new AtomicInteger(n));
    return this;
  }

  /** Requests waiting for {@link #release}. */
  public int heldCount() {
    synchronized (held) {
      return held.size();
    }
  }

  /** Answers every held request, and holds none from now on. */
  public void release() {
    List<Runnable> answers;
    synchronized (held) {
      late.clear();
      answers = List.copyOf(held);
      held.clear();
    }
    answers.forEach(Runnable::run);
  }

  public int hits(String path) {
    AtomicInteger n = hits.get(path);
    return n == null ? 0 : n.get();
  }

  /** The paths within {@code maxDepth} links of {@code /} by the shortest path: what a crawl must store. */
  public Set<String> within(int maxDepth) {
    return new TreeSet<>(depths(maxDepth).keySet());
  }

  /** Breadth-first from {@code /}: each path within {@code maxDepth} links, with its shortest link distance. */
  public Map<String, Integer> depths(int maxDepth) {
    Map<String, Integer> depth = new LinkedHashMap<>();
    ArrayDeque<String> queue = new ArrayDeque<>(List.of("/"));
    depth.put("/", 0);
    while (!queue.isEmpty()) {
      String path = queue.poll();
      int d = depth.get(path);
      if (d < maxDepth) {
        for (String link : graph.getOrDefault(path, List.of())) {
          if (depth.putIfAbsent(link, d + 1) == null) {
            queue.add(link);
          }
        }
      }
    }
    return depth;
  }

  public String url(String path) {
    return "http://127.0.0.1:" + server.actualPort() + path;
  }

  public int port() {
    return server.actualPort();
  }
}
