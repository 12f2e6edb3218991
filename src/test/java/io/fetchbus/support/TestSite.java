package io.fetchbus.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A generated website on 127.0.0.1 with a known link graph, so a test can compute exactly which pages a crawl
 * must store. Page {@code /p/i} (0 <= i < size) links to {@code /p/2i+1}, {@code /p/2i+2} (a binary tree, so
 * every page is reachable from {@code /p/0}), to {@code /p/(7i+3) mod size}, to {@code /private/i} when i is a
 * multiple of 5 (disallowed by robots.txt), to the same page on the host name {@code localhost} (another
 * host), to itself with a fragment, and to {@code /fail/i} when i is a multiple of 8 (the connection is always
 * cut). robots.txt names a sitemap index; it and {@code /sitemap.xml} list {@link #ORPHANS}, a robots-disallowed
 * URL, the last page, and a page on the other host. It counts every request by path, and can hold requests
 * until released.
 */
public final class TestSite {
  public final int size;
  private final Vertx vertx;
  private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
  private final List<String> requested = new CopyOnWriteArrayList<>();
  private final List<String> requestedHosts = new CopyOnWriteArrayList<>();
  private final HeldRequests held = new HeldRequests();
  private final AtomicInteger inProgress = new AtomicInteger();
  private final AtomicInteger maxInProgress = new AtomicInteger();
  private volatile long pageDelayMs;
  private HttpServer server;

  private TestSite(Vertx vertx, int size) {
    this.vertx = vertx;
    this.size = size;
  }

  public static Future<TestSite> start(Vertx vertx, int size) {
    TestSite site = new TestSite(vertx, size);
    Router router = Router.router(vertx);
    router.route().handler(site::count);
    router.get("/robots.txt").handler(ctx -> ctx.response().putHeader("Content-Type", "text/plain")
        .end("User-agent: *\nDisallow: /private/\n\nSitemap: " + site.url("/sitemap-index.xml") + "\n"));
    // Sitemaps: an index named by robots.txt lists one sitemap; /sitemap.xml (found by convention) another.
    router.get("/sitemap-index.xml").handler(ctx -> ctx.response().putHeader("Content-Type", "application/xml")
        .end("<?xml version=\"1.0\" encoding=\"UTF-8\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
            + "<sitemap><loc>" + site.url("/sitemap-orphans.xml") + "</loc></sitemap></sitemapindex>"));
    router.get("/sitemap-orphans.xml").handler(ctx -> ctx.response().putHeader("Content-Type", "application/xml")
        .end(urlset(site.url("/orphan/1"), site.url("/orphan/2"), site.url("/private/99"))));
    router.get("/sitemap.xml").handler(ctx -> ctx.response().putHeader("Content-Type", "application/xml")
        .end(urlset(site.url("/orphan/3"), site.url("/p/" + (size - 1)), "http://localhost:" + site.port() + "/orphan/4")));
    router.get("/orphan/:i").handler(ctx -> ctx.response().putHeader("Content-Type", "text/html")
        .end("<html><head><title>Orphan</title></head><body><a href=\"/p/0\">home</a></body></html>"));
    router.get("/p/:i").handler(site::page);
    router.get("/private/:i").handler(ctx -> ctx.response().putHeader("Content-Type", "text/html")
        .end("<html><head><title>Private</title></head><body>secret</body></html>"));
    router.get("/fail/:i").handler(ctx -> ctx.request().connection().close());
    return vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
        .map(s -> {
          site.server = s;
          return site;
        });
  }

  /** The URLs only the sitemaps list (same host): what {@code sitemap: only} stores, with {@code /p/(size-1)}. */
  public static final List<String> ORPHANS = List.of("/orphan/1", "/orphan/2", "/orphan/3");

  private static String urlset(String... urls) {
    StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        + "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">");
    for (String url : urls) {
      xml.append("<url><loc>").append(url).append("</loc></url>");
    }
    return xml.append("</urlset>").toString();
  }

  private void count(RoutingContext ctx) {
    String path = ctx.request().path();
    hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
    requested.add(path);
    requestedHosts.add(ctx.request().authority() == null ? "" : ctx.request().authority().host());
    int now = inProgress.incrementAndGet();
    maxInProgress.accumulateAndGet(now, Math::max);
    ctx.addEndHandler(v -> inProgress.decrementAndGet());
    if (path.equals("/robots.txt") || !held.keep(vertx, ctx::next)) {
      ctx.next();
    }
  }

  private void page(RoutingContext ctx) {
    int i;
    try {
      i = Integer.parseInt(ctx.pathParam("i"));
    } catch (NumberFormatException e) {
      ctx.response().setStatusCode(404).end();
      return;
    }
    if (i < 0 || i >= size) {
      ctx.response().setStatusCode(404).end();
      return;
    }
    StringBuilder html = new StringBuilder("<!doctype html><html><head><title>Page " + i + "</title></head><body>")
        .append("<h1>Page ").append(i).append("</h1><p>Words of page ").append(i).append(".</p><ul>");
    for (String link : linksOf(i)) {
      html.append("<li><a href=\"").append(link).append("\">").append(link).append("</a></li>");
    }
    html.append("<li><a href=\"http://localhost:").append(port()).append("/p/").append(i).append("\">elsewhere</a></li>")
        .append("<li><a href=\"/p/").append(i).append("#top\">top</a></li>")
        .append("<li><a href=\"mailto:someone@example.com\">mail</a></li></ul></body></html>");
    if (pageDelayMs > 0) {
      vertx.setTimer(pageDelayMs, t -> ctx.response().putHeader("Content-Type", "text/html; charset=utf-8").end(html.toString()));
    } else {
      ctx.response().putHeader("Content-Type", "text/html; charset=utf-8").end(html.toString());
    }
  }

  /** From now on, pages answer after {@code ms}, so that concurrent fetches of the site overlap for sure. */
  public TestSite slow(long ms) {
    pageDelayMs = ms;
    return this;
  }

  /** The same-host links of page i, as paths. */
  public List<String> linksOf(int i) {
    List<String> links = new ArrayList<>();
    if (2 * i + 1 < size) {
      links.add("/p/" + (2 * i + 1));
    }
    if (2 * i + 2 < size) {
      links.add("/p/" + (2 * i + 2));
    }
    links.add("/p/" + ((7 * i + 3) % size));
    if (i % 5 == 0) {
      links.add("/private/" + i);
    }
    if (i % 8 == 0) {
      links.add("/fail/" + i);
    }
    return links;
  }

  /**
   * Breadth-first from {@code /p/0}: every path a crawl with this depth limit reaches on the seed's host, with
   * its depth, following only the paths {@code follow} accepts (the seed always counts).
   */
  public Map<String, Integer> reachable(int maxDepth, Predicate<String> follow) {
    Map<String, Integer> depth = new HashMap<>();
    ArrayDeque<String> queue = new ArrayDeque<>();
    depth.put("/p/0", 0);
    queue.add("/p/0");
    while (!queue.isEmpty()) {
      String path = queue.poll();
      int d = depth.get(path);
      if (d == maxDepth || !path.startsWith("/p/")) {
        continue; // only pages that answer have links
      }
      for (String link : linksOf(Integer.parseInt(path.substring(3)))) {
        if (follow.test(link) && !depth.containsKey(link)) {
          depth.put(link, d + 1);
          queue.add(link);
        }
      }
    }
    return depth;
  }

  /** The pages among the reachable paths: what a crawl stores. */
  public static Set<String> pages(Map<String, Integer> reachable) {
    Set<String> pages = new LinkedHashSet<>();
    reachable.keySet().stream().filter(p -> p.startsWith("/p/")).sorted().forEach(pages::add);
    return pages;
  }

  public String url(String path) {
    return "http://127.0.0.1:" + port() + path;
  }

  public int port() {
    return server.actualPort();
  }

  public int hits(String path) {
    AtomicInteger n = hits.get(path);
    return n == null ? 0 : n.get();
  }

  /** Every path requested so far, in order of arrival. */
  public List<String> requested() {
    return List.copyOf(requested);
  }

  /** The host name each request was made for (its Host header), in order of arrival. */
  public List<String> requestedHosts() {
    return List.copyOf(requestedHosts);
  }

  public int maxInProgress() {
    return maxInProgress.get();
  }

  /** From now on, requests wait (robots.txt excepted) until {@link #release()}. */
  public void hold() {
    held.hold();
  }

  public int heldCount() {
    return held.count();
  }

  /** Answers every held request, and stops holding. */
  public void release() {
    held.release();
  }
}
