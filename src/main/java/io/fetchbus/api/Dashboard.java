package io.fetchbus.api;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * The web dashboard: static files from the class path ({@code ui/} in the jar), served at {@code /ui/}, with
 * {@code /} redirecting there. The shell holds no data, so it is public; every figure it shows comes from the API
 * with the user's key. These routes are not operations of the contract: they are mounted on the router after it
 * is built, so no request validation runs on them, and what they do not serve falls through to the 404 problem.
 */
final class Dashboard {
  static final String PATH = "/ui/";
  /**
   * No inline script or style, nothing from another origin, no framing of the dashboard. A stored page is shown in
   * an {@code <iframe sandbox srcdoc>}, which inherits this policy: its scripts, styles and remote images stay off.
   */
  static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      + "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
      + "frame-ancestors 'none'";

  private Dashboard() {}

  static void mount(Router router) {
    router.get("/").handler(Dashboard::redirect);
    // A route's path matches with or without its trailing slash: "/ui" alone is told apart here.
    router.get("/ui").handler(ctx -> {
      if (ctx.normalizedPath().equals("/ui")) {
        redirect(ctx);
      } else {
        ctx.next();
      }
    });
    StaticHandler files = StaticHandler.create("ui")
        .setCachingEnabled(true) // Last-Modified, and 304 to If-Modified-Since
        .setDirectoryListing(false)
        .setIncludeHidden(false)
        .setIndexPage("index.html");
    router.route(PATH + "*").handler(Dashboard::secure).handler(files);
  }

  private static void redirect(RoutingContext ctx) {
    ctx.response().setStatusCode(302).putHeader("Location", PATH).end();
  }

  private static void secure(RoutingContext ctx) {
    ctx.response()
        .putHeader("Content-Security-Policy", CSP)
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("X-Frame-Options", "DENY")
        .putHeader("Referrer-Policy", "no-referrer")
        .putHeader("Cross-Origin-Opener-Policy", "same-origin");
    // The file names carry no version, so StaticHandler's "public, immutable, max-age" would keep an old shell
    // after an upgrade: the browser keeps the files but asks each time (a 304 while they have not changed).
    ctx.addHeadersEndHandler(v -> ctx.response().headers().set("Cache-Control", "no-cache"));
    ctx.next();
  }
}
