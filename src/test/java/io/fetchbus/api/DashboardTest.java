package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The dashboard's files over plain HTTP: where they are, their types and headers, and what they leave alone. */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class DashboardTest extends TestBase {

  @Test
  @DisplayName("/ redirects to /ui/, whose files come with their types, a strict CSP, nosniff and no-cache, even with keys")
  void servesTheShell(VertxTestContext ctx) {
    ServiceUnderTest.fresh(vertx, new JsonObject().put("auth", new JsonObject().put("keys", new JsonArray().add("ui:k1"))))
        .compose(fb -> fb.http.get("/").followRedirects(false).send().compose(root -> {
          ctx.verify(() -> {
            assertThat(root.statusCode()).isEqualTo(302);
            assertThat(root.getHeader("Location")).isEqualTo("/ui/");
          });
          return Future.all(fb.get("/ui/"), fb.get("/ui/app.js"), fb.get("/ui/app.css"), fb.get("/ui/api.js"));
        }))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          String[] types = {"text/html", "text/javascript", "text/css", "text/javascript"};
          for (int i = 0; i < types.length; i++) {
            io.vertx.ext.web.client.HttpResponse<?> r = all.resultAt(i);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.getHeader("Content-Type")).startsWith(types[i]);
            String csp = r.getHeader("Content-Security-Policy");
            assertThat(csp).contains("default-src 'self'", "script-src 'self'", "style-src 'self'",
                "frame-ancestors 'none'", "object-src 'none'").doesNotContain("unsafe");
            assertThat(r.getHeader("X-Content-Type-Options")).isEqualTo("nosniff");
            assertThat(r.getHeader("X-Frame-Options")).isEqualTo("DENY");
            assertThat(r.getHeader("Cache-Control")).isEqualTo("no-cache");
            assertThat(r.getHeader("Last-Modified")).isNotBlank();
          }
          io.vertx.ext.web.client.HttpResponse<io.vertx.core.buffer.Buffer> html = all.resultAt(0);
          // No inline script or style for the CSP to refuse.
          assertThat(html.bodyAsString()).contains("<script type=\"module\" src=\"app.js\"></script>")
              .doesNotContain("style=", "onclick", "<script>");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a missing file is a 404 problem, and the API, /openapi.yaml, /metrics and the probes answer as before")
  void leavesTheApiAlone(VertxTestContext ctx) {
    ServiceUnderTest.fresh(vertx, new JsonObject())
        .compose(fb -> Future.all(fb.get("/ui/nothing.js"), fb.get("/openapi.yaml"), fb.get("/metrics"),
            fb.get("/health"), fb.get("/ready"), fb.get("/v1/crawls")))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          io.vertx.ext.web.client.HttpResponse<io.vertx.core.buffer.Buffer> missing = all.resultAt(0);
          assertThat(missing.statusCode()).isEqualTo(404);
          assertThat(missing.getHeader("Content-Type")).isEqualTo("application/problem+json");
          io.vertx.ext.web.client.HttpResponse<io.vertx.core.buffer.Buffer> openapi = all.resultAt(1);
          assertThat(openapi.getHeader("Content-Type")).startsWith("application/yaml");
          assertThat(openapi.getHeader("Content-Security-Policy")).isNull();
          for (int i = 1; i <= 5; i++) {
            assertThat(((io.vertx.ext.web.client.HttpResponse<?>) all.resultAt(i)).statusCode()).as("answer %d", i)
                .isEqualTo(200);
          }
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("http.dashboard=false serves neither / nor /ui/")
  void canBeTurnedOff(VertxTestContext ctx) {
    ServiceUnderTest.fresh(vertx, new JsonObject().put("http", new JsonObject().put("dashboard", false)))
        .compose(fb -> Future.all(fb.http.get("/").followRedirects(false).send(), fb.get("/ui/"), fb.get("/ui/app.js")))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          for (int i = 0; i < 3; i++) {
            io.vertx.ext.web.client.HttpResponse<?> r = all.resultAt(i);
            assertThat(r.statusCode()).isEqualTo(404);
            assertThat(r.getHeader("Content-Type")).isEqualTo("application/problem+json");
          }
          ctx.completeNow();
        })));
  }
}
