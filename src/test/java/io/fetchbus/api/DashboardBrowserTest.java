package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.NodePackages;
import io.fetchbus.support.TestBase;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The dashboard in a real browser: {@code src/test/js/dashboard.mjs} drives Debian's Chromium (headless, through
 * playwright-core) against the service deployed here and a small site on 127.0.0.1. The script prints a line per
 * step and exits 0 only when every step passed; its screenshots go to {@code target/dashboard-screenshots/}.
 * The npm packages are installed on first use ({@link NodePackages}); Chromium missing is a failure that says what to do.
 */
@Timeout(value = 240, timeUnit = TimeUnit.SECONDS)
class DashboardBrowserTest extends TestBase {
  private static final Path JS = NodePackages.DIR;
  private static final Path SHOTS = Path.of("target/dashboard-screenshots");
  private static final String KEY = "dashboard-test-key-8f2c";

  private final List<RoutingContext> held = new CopyOnWriteArrayList<>();
  private Process node;

  @AfterEach
  void stopBrowser() throws InterruptedException {
    if (node != null && node.isAlive()) {
      node.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // the JUnit thread, not an event loop
    }
  }

  @Test
  @DisplayName("in Chromium: a crawl started from the form completes, its page opens and is found, a hostile title "
      + "stays text, a running crawl is cancelled, the node view reads the metrics")
  void withoutKeys(VertxTestContext ctx) {
    run(ctx, "open", new JsonObject());
  }

  @Test
  @DisplayName("in Chromium, with API keys: the dashboard asks for the key, refuses a wrong one, and sends the right "
      + "one with every request, event streams and /metrics included")
  void withKeys(VertxTestContext ctx) {
    run(ctx, "keys", new JsonObject().put("auth", new JsonObject().put("keys", new JsonArray().add("ui:" + KEY))));
  }

  private void run(VertxTestContext ctx, String mode, JsonObject overrides) {
    String missing = missingPrerequisite();
    if (missing != null) {
      ctx.failNow(new AssertionError(missing));
      return;
    }
    Path log = Path.of("target", "dashboard-" + mode + ".log");
    site().compose(site -> ServiceUnderTest.fresh(vertx, overrides).map(fb -> {
      try {
        Files.createDirectories(SHOTS);
        node = new ProcessBuilder("node", "dashboard.mjs", mode, "http://127.0.0.1:" + fb.port + "/",
            "http://127.0.0.1:" + site.actualPort(), SHOTS.toAbsolutePath().toString(), KEY)
            .directory(JS.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
      } catch (IOException e) {
        throw new IllegalStateException("could not start node: " + e.getMessage(), e);
      }
      return node;
    })).compose(p -> Future.fromCompletionStage(p.onExit(), vertx.getOrCreateContext()))
        .compose(p -> vertx.fileSystem().readFile(log.toString()).map(out -> out.toString(StandardCharsets.UTF_8))
            .map(out -> {
              System.out.println("== " + log + "\n" + out);
              return new Result(p.exitValue(), out);
            }))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.exitCode()).as("node dashboard.mjs %s exited %d:%n%s", mode, r.exitCode(), r.output()).isZero();
          assertThat(r.output()).contains("PASSED " + mode).doesNotContain("FAILED");
          ctx.completeNow();
        })));
  }

  private record Result(int exitCode, String output) {}

  private static String missingPrerequisite() {
    String chromium = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");
    if (!new File(chromium).canExecute()) {
      return "the browser tests need Chromium at " + chromium + ": apt-get install -y chromium (see docs/testing.md)";
    }
    try {
      NodePackages.install();
    } catch (IOException | RuntimeException e) {
      return "the browser tests need playwright-core, which npm ci in src/test/js installs: " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted while installing playwright-core";
    }
    return null;
  }

  /**
   * The site the browser crawls: six linked pages about a zebrafinch, a page whose title and body are hostile, and
   * pages under /slow/ whose answers are held until the test ends (a crawl of them runs until cancelled).
   */
  private Future<HttpServer> site() {
    Router router = Router.router(vertx);
    router.get("/robots.txt").handler(c -> c.response().putHeader("Content-Type", "text/plain").end("User-agent: *\nAllow: /\n"));
    router.get("/p/:i").handler(c -> {
      int i = Integer.parseInt(c.pathParam("i"));
      String next = i < 5 ? "<a href=\"/p/" + (i + 1) + "\">next</a> <a href=\"/p/" + (5 - i) + "\">other</a>" : "";
      c.response().putHeader("Content-Type", "text/html; charset=utf-8").end("<!doctype html><html><head><title>"
          + "Zebrafinch page " + i + "</title><meta name=\"description\" content=\"About zebrafinches\"></head><body>"
          + "<h1>Zebrafinch page " + i + "</h1><p>The zebrafinch sings at dawn, page " + i + ".</p>" + next
          + "</body></html>");
    });
    router.get("/hostile").handler(c -> c.response().putHeader("Content-Type", "text/html; charset=utf-8")
        .end("<html><head><title><img src=x onerror=alert(1)></title></head><body><script>alert(2);top.pwned=1</script>"
            + "<img src=x onerror=alert(3)><p>hostilebody <b>bold</b> &lt;script&gt;alert(4)&lt;/script&gt;</p></body></html>"));
    router.get("/slow/:i").handler(held::add);
    return vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1");
  }
}
