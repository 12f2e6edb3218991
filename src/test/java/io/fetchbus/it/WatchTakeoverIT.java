package io.fetchbus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.CrawlChecks;
import io.fetchbus.support.JobClient;
import io.fetchbus.support.Poll;
import io.fetchbus.support.Processes;
import io.fetchbus.support.ServiceProcess;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.fetchbus.support.TestSite;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * kill -9 of the node running a site watch, in the middle of the run's crawl; another node takes the run over once
 * the watch's lease ends, finishes the same crawl job (the frontier's leases of the dead node expire too), and records
 * the run: every page of the site once, as new, and nothing else.
 */
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class WatchTakeoverIT extends TestBase {
  private static final int SIGKILL_EXIT = 128 + 9;
  private static final int DEPTH = 3;

  @RegisterExtension
  final Processes processes = new Processes();
  private TestSite site;

  @BeforeEach
  void startSite(VertxTestContext ctx) {
    TestSite.start(vertx, 60).onSuccess(s -> site = s).onComplete(ctx.succeedingThenComplete());
  }

  /** Short crawl and watch leases, so that the dead node's expire within seconds; a scheduler that looks often. */
  private ServiceProcess launch(String name) {
    Map<String, String> env = ServiceProcess.baseEnv();
    env.put("FETCHBUS_CRAWL_LEASE_MS", "3000");
    env.put("FETCHBUS_CRAWL_MAX_ATTEMPTS", "3");
    env.put("FETCHBUS_WATCHES_LEASE_MS", "3000");
    env.put("FETCHBUS_WATCHES_POLL_MS", "100");
    env.put("FETCHBUS_WATCHES_MAX_URLS", "500");
    return processes.launch(vertx, name, env);
  }

  private static Set<String> paths(JsonArray urls) {
    return urls.stream().map(u -> URI.create(((JsonObject) u).getString("url")).getPath()).collect(Collectors.toSet());
  }

  @Test
  @DisplayName("kill -9 of the node running a site watch mid-crawl: another node takes the run over, finishes the same "
      + "crawl job and records every page once, as new; its next run finds every page the same")
  void killedMidRunThenTakenOver(VertxTestContext ctx) {
    Set<String> expected = TestSite.pages(site.reachable(DEPTH, link -> true));
    ServiceProcess first = launch("watch-kill9-1");
    String[] id = new String[1];
    site.hold();
    first.port()
        .compose(port -> TestDatabase.truncate(vertx).compose(v -> ServiceUnderTest.at(vertx, port).http
            .post("/v1/watches").sendJsonObject(new JsonObject().put("crawl", new JsonObject()
                .put("url", site.url("/p/0")).put("sitemap", "skip").put("maxDepth", DEPTH)))))
        .compose(created -> {
          ctx.verify(() -> assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201));
          id[0] = created.bodyAsJsonObject().getString("id");
          // The scheduler of the first node runs the watch at once: its crawl job is under way, requests held.
          return CrawlChecks.midCrawl(vertx, site, 2);
        })
        .compose(v -> {
          first.kill();
          return first.exited(10_000).compose(code -> TestDatabase.count(vertx,
              "SELECT count(*) FROM watches WHERE lease_until IS NOT NULL AND runs = 0").map(leased -> {
                ctx.verify(() -> {
                  assertThat(code).as("exit code after SIGKILL").isEqualTo(SIGKILL_EXIT);
                  assertThat(leased).as("the watch, still leased by the dead node").isEqualTo(1);
                });
                return null;
              }));
        })
        .compose(v -> {
          site.release();
          ServiceProcess second = launch("watch-kill9-2");
          return second.port().map(port -> ServiceUnderTest.at(vertx, port));
        })
        .compose(fb -> Poll.until(vertx, () -> fb.get("/v1/watches/" + id[0])
                .map(r -> r.bodyAsJsonObject().getInteger("runs") == 1))
            .compose(v -> fb.get("/v1/watches/" + id[0]))
            .compose(watch -> fb.get("/v1/crawls?limit=10").compose(jobs -> {
              JsonArray items = jobs.bodyAsJsonObject().getJsonArray("items");
              ctx.verify(() -> {
                JsonObject w = watch.bodyAsJsonObject();
                assertThat(paths(w.getJsonArray("urls"))).as("the pages the run recorded").isEqualTo(expected);
                assertThat(w.getJsonArray("urls").stream().map(u -> ((JsonObject) u).getString("changeStatus")))
                    .containsOnly("new");
                assertThat(items).as("one crawl job: the second node went on with the first one's").hasSize(1);
                assertThat(items.getJsonObject(0).getString("status")).isEqualTo("completed");
              });
              String job = items.getJsonObject(0).getString("id");
              return CrawlChecks.exactPages(fb, job, expected)
                  .compose(exact -> JobClient.all(fb, "/v1/watches/" + id[0] + "/changes"));
            }))
            .compose(changes -> {
              ctx.verify(() -> {
                assertThat(changes).as("one version per page, none twice").hasSize(expected.size());
                assertThat(changes.stream().map(c -> c.getString("changeStatus"))).containsOnly("new");
                assertThat(changes.stream().map(c -> URI.create(c.getString("url")).getPath())
                    .collect(Collectors.toSet())).isEqualTo(expected);
              });
              return fb.http.post("/v1/watches/" + id[0] + "/run").send();
            }))
        .onComplete(ctx.succeeding(second -> ctx.verify(() -> {
          assertThat(second.statusCode()).as(second.bodyAsString()).isEqualTo(200);
          List<Object> statuses = second.bodyAsJsonObject().getJsonArray("results").stream()
              .map(r -> ((JsonObject) r).getString("changeStatus")).collect(Collectors.toList());
          assertThat(statuses).hasSize(expected.size()).containsOnly("same");
          ctx.completeNow();
        })));
  }
}
