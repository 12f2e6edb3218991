package io.fetchbus.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.Upstream;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** robots.txt as a real server serves it: its outcomes (RFC 9309 2.3.1), its cache, and obeyRobots. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class RobotsFetchTest extends TestBase {

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    deployWithUpstream(new JsonObject().put("fetch", new JsonObject().put("retry", new JsonObject().put("max", 0))
              .put("timeoutMs", 5000).put("firstByteTimeoutMs", 500))).onComplete(ctx.succeedingThenComplete());
  }

  private Future<JsonObject> fetch(String path, boolean obeyRobots) {
    return fb.postFetch(new JsonObject().put("url", up.url(path)).put("obeyRobots", obeyRobots))
        .map(resp -> resp.bodyAsJsonObject().put("httpStatus", resp.statusCode()));
  }

  @Test
  @DisplayName("a URL robots.txt disallows is refused with 403 robots-disallowed, recorded, and not fetched")
  void disallowed(VertxTestContext ctx) {
    up.robots(200, "User-agent: *\nDisallow: /page/private\n\nUser-agent: Fetchbus\nDisallow: /page/secret\nAllow: /\n");
    fetch("/page/secret", true)
        .compose(secret -> fetch("/page/private", true).compose(priv -> fetch("/page/public", true)
            .map(pub -> List.of(secret, priv, pub))))
        .compose(r -> fb.get(r.get(0).getString("instance")).map(page -> {
          ctx.verify(() -> {
            assertThat(r.get(0).getInteger("httpStatus")).isEqualTo(403);
            assertThat(r.get(0).getString("type")).isEqualTo("/problems/robots-disallowed");
            assertThat(r.get(0).getString("detail")).contains("disallows").contains("Fetchbus");
            assertThat(page.bodyAsJsonObject().getString("error")).contains("disallows");
            // Our own group applies, not the * group: /page/private is allowed for Fetchbus.
            assertThat(r.get(1).getInteger("httpStatus")).isEqualTo(201);
            assertThat(r.get(2).getInteger("httpStatus")).isEqualTo(201);
            assertThat(up.hits("/page/secret")).isZero();
            assertThat(up.hits("/robots.txt")).as("robots.txt is fetched once per origin").isEqualTo(1);
          });
          return page;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("obeyRobots: false fetches a URL that robots.txt disallows")
  void obeyRobotsFalse(VertxTestContext ctx) {
    up.robots(200, "User-agent: *\nDisallow: /\n");
    fetch("/page/anyway", false).onComplete(ctx.succeeding(r -> ctx.verify(() -> {
      assertThat(r.getInteger("httpStatus")).isEqualTo(201);
      assertThat(up.hits("/robots.txt")).isZero();
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("robots.txt answering 4xx allows everything")
  void unavailableAllowsAll(VertxTestContext ctx) {
    up.robots(410, "gone");
    fetch("/page/a", true).onComplete(ctx.succeeding(r -> ctx.verify(() -> {
      assertThat(r.getInteger("httpStatus")).isEqualTo(201);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("robots.txt answering 5xx disallows everything, for a while")
  void unreachableDisallowsAll(VertxTestContext ctx) {
    up.robots(503, "down");
    fetch("/page/a", true)
        .compose(first -> {
          up.robots(200, ""); // back up, but the outcome is cached for fetch.robots.errorTtlSeconds
          return fetch("/page/b", true).map(second -> List.of(first, second));
        })
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.get(0).getInteger("httpStatus")).isEqualTo(403);
          assertThat(r.get(0).getString("type")).isEqualTo("/problems/robots-disallowed");
          assertThat(r.get(1).getInteger("httpStatus")).isEqualTo(403);
          assertThat(up.hits("/page/a") + up.hits("/page/b")).isZero();
          assertThat(up.hits("/robots.txt")).isEqualTo(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("robots.txt that never answers makes the site unreachable: the fetch fails with that timeout, unfetched")
  void robotsTimeout(VertxTestContext ctx) {
    up.robots(-1, "");
    fb.postFetch(new JsonObject().put("url", up.url("/page/x")))
        .onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
          assertThat(resp.statusCode()).isEqualTo(504);
          assertThat(resp.bodyAsJsonObject().getString("type")).isEqualTo("/problems/idle-timeout");
          assertThat(resp.bodyAsJsonObject().getString("detail")).contains("sent no response within 500 ms");
          assertThat(up.hits("/page/x")).isZero();
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a cross-origin redirect is followed, and the robots.txt of the new origin is obeyed too")
  void crossOriginRedirect(VertxTestContext ctx) {
    Upstream.start(vertx).onComplete(ctx.succeeding(other -> {
      other.robots(200, "User-agent: *\nDisallow: /page/closed\n");
      fetch("/redirect-to?target=" + other.url("/page/open"), true)
          .compose(open -> fetch("/redirect-to?target=" + other.url("/page/closed"), true).map(closed -> List.of(open, closed)))
          .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
            assertThat(r.get(0).getInteger("httpStatus")).isEqualTo(201);
            assertThat(r.get(0).getString("finalUrl")).isEqualTo(other.url("/page/open"));
            assertThat(r.get(1).getInteger("httpStatus")).isEqualTo(403);
            assertThat(r.get(1).getString("type")).isEqualTo("/problems/robots-disallowed");
            assertThat(other.hits("/page/closed")).isZero();
            assertThat(other.hits("/robots.txt")).isEqualTo(1);
            ctx.completeNow();
          })));
    }));
  }

  @Test
  @DisplayName("a Crawl-delay in robots.txt spaces the requests to that origin")
  void crawlDelay(VertxTestContext ctx) {
    up.robots(200, "User-agent: *\nCrawl-delay: 1\n");
    Future.all(fetch("/slow/1", true), fetch("/slow/2", true), fetch("/slow/3", true))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          List<Long> at = up.arrivals();
          assertThat(at).hasSize(3);
          assertThat(at.get(1) - at.get(0)).isGreaterThanOrEqualTo(950);
          assertThat(at.get(2) - at.get(1)).isGreaterThanOrEqualTo(950);
          ctx.completeNow();
        })));
  }
}
