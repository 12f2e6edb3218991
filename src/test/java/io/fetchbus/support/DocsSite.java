package io.fetchbus.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small website on 127.0.0.1 shaped like a real one, for the Firecrawl tests, whose crawl options are about paths:
 * a home page, {@code /docs/} with pages two and four segments deep, {@code /blog/}, and {@code /about}, which links
 * to {@code /private/secret} (disallowed by robots.txt) and {@code /gone} (its connection is always cut). Its sitemap
 * lists {@code /docs/orphan} and {@code /blog/z}, which no page links to; {@code /hang/} never answers. Page {@code P}'s title is its {@link #title}
 * and its text {@code "Words of <title>."}. It counts requests by path, and can hold pages until released.
 */
public final class DocsSite {
  /** Each page and the pages it links to. */
  public static final Map<String, List<String>> PAGES;

  static {
    Map<String, List<String>> pages = new LinkedHashMap<>();
    pages.put("/", List.of("/docs/", "/blog/", "/about"));
    pages.put("/docs/", List.of("/docs/a", "/docs/b", "/blog/x", "/"));
    pages.put("/docs/a", List.of("/docs/a/deep/1", "/docs/b"));
    pages.put("/docs/b", List.of("/docs/"));
    pages.put("/docs/a/deep/1", List.of("/docs/a/deep/1/2"));
    pages.put("/docs/a/deep/1/2", List.of());
    pages.put("/docs/orphan", List.of());
    pages.put("/blog/", List.of("/blog/x", "/blog/y"));
    pages.put("/blog/x", List.of("/blog/"));
    pages.put("/blog/y", List.of());
    pages.put("/blog/z", List.of());
    pages.put("/about", List.of("/private/secret", "/gone", "/"));
    pages.put("/private/secret", List.of());
    PAGES = Map.copyOf(pages);
  }

  private final Vertx vertx;
  private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
  private final HeldRequests held = new HeldRequests();
  private HttpServer server;

  private DocsSite(Vertx vertx) {
    this.vertx = vertx;
  }

  public static Future<DocsSite> start(Vertx vertx) {
    DocsSite site = new DocsSite(vertx);
    return vertx.createHttpServer().requestHandler(site::handle).listen(0, "127.0.0.1").map(s -> {
      site.server = s;
      return site;
    });
  }

  public static String title(String path) {
    return path.equals("/") ? "Home" : "Page " + path;
  }

  private void handle(HttpServerRequest req) {
    String path = req.path();
    hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
    switch (path) {
      case "/robots.txt" -> req.response().putHeader("Content-Type", "text/plain")
          .end("User-agent: *\nDisallow: /private/\n");
      case "/sitemap.xml" -> req.response().putHeader("Content-Type", "application/xml")
          .end("<?xml version=\"1.0\" encoding=\"UTF-8\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
              + "<url><loc>" + url("/docs/orphan") + "</loc></url><url><loc>" + url("/blog/z") + "</loc></url></urlset>");
      case "/gone" -> req.connection().close();
      case "/hang/" -> { } // never answers: a job started here runs until it is cancelled
      default -> {
        List<String> links = PAGES.get(path);
        if (links == null) {
          req.response().setStatusCode(404).end();
          return;
        }
        if (!held.keep(vertx, () -> page(req, path, links))) {
          page(req, path, links);
        }
      }
    }
  }

  private static void page(HttpServerRequest req, String path, List<String> links) {
    StringBuilder html = new StringBuilder("<!doctype html><html><head><title>").append(title(path))
        .append("</title></head><body><h1>").append(title(path)).append("</h1><p>Words of ").append(title(path))
        .append(".</p><ul>");
    for (String link : links) {
      html.append("<li><a href=\"").append(link).append("\">").append(link).append("</a></li>");
    }
    req.response().putHeader("Content-Type", "text/html; charset=utf-8").end(html.append("</ul></body></html>").toString());
  }

  /** The pages a crawl from {@code seed} reaches following links only, whose paths {@code keep} (and the seed). */
  public static Set<String> reachable(String seed, java.util.function.Predicate<String> keep) {
    Set<String> seen = new TreeSet<>(List.of(seed));
    List<String> queue = new ArrayList<>(List.of(seed));
    while (!queue.isEmpty()) {
      for (String link : PAGES.getOrDefault(queue.remove(0), List.of())) {
        if (PAGES.containsKey(link) && !link.startsWith("/private/") && keep.test(link) && seen.add(link)) {
          queue.add(link);
        }
      }
    }
    return seen;
  }

  public String url(String path) {
    return "http://127.0.0.1:" + server.actualPort() + path;
  }

  public int hits(String path) {
    AtomicInteger n = hits.get(path);
    return n == null ? 0 : n.get();
  }

  /** From now on pages wait until {@link #release}. */
  public void hold() {
    held.hold();
  }

  public int heldCount() {
    return held.count();
  }

  /** Answers every held page, and stops holding. */
  public void release() {
    held.release();
  }
}
