package io.fetchbus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.CrawlChecks;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.JobClient;
import io.fetchbus.support.Poll;
import io.fetchbus.support.Processes;
import io.fetchbus.support.ServiceProcess;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.fetchbus.support.TestSite;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** SIGTERM to the fat jar in the middle of a crawl: the service shuts down in order and leaves no lease held. */
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class GracefulShutdownIT extends TestBase {
  /** Longer than any test: a job that completes cannot owe it to an expired lease. */
  private static final String LEASE_MS = "600000";
  private static final int SIGTERM_EXIT = 128 + 15;

  @RegisterExtension
  final Processes processes = new Processes();
  private TestSite site;

  @BeforeEach
  void startSite(VertxTestContext ctx) {
    TestSite.start(vertx, 120).onSuccess(s -> site = s).onComplete(ctx.succeedingThenComplete());
  }

  /** The fat jar in a child process, and a client of its API. */
  private record Node(ServiceProcess process, ServiceUnderTest fb) {}

  private Future<Node> start(String name, Map<String, String> overrides) {
    Map<String, String> env = ServiceProcess.baseEnv();
    env.put("FETCHBUS_CRAWL_LEASE_MS", LEASE_MS);
    env.putAll(overrides);
    ServiceProcess p = processes.launch(vertx, name, env);
    return p.port().map(port -> new Node(p, ServiceUnderTest.at(vertx, port)));
  }

  /** The service in the first process, on emptied tables (after it has migrated the schema), with a crawl running. */
  private Future<String> crawlOn(ServiceUnderTest fb) {
    site.hold();
    return TestDatabase.truncate(vertx)
        .compose(v -> JobClient.crawl(fb, new JsonObject().put("url", site.url("/p/0")).put("sitemap", "skip").put("maxDepth", 3)));
  }

  private static int count(Pattern pattern, String text) {
    Matcher m = pattern.matcher(text);
    return m.find() ? Integer.parseInt(m.group(1)) : -1;
  }

  @Test
  @DisplayName("SIGTERM mid-crawl: fetches still held when the grace period ends have their leases released, the process "
      + "exits, and a restart completes the job with exactly the expected pages, without waiting for any lease to expire")
  void sigtermReleasesLeasesAndRestartCompletes(VertxTestContext ctx) {
    Set<String> expected = TestSite.pages(site.reachable(3, link -> true));
    ServiceProcess[] first = new ServiceProcess[1];
    long[] terminatedAt = new long[1];
    start("sigterm-1", Map.of("FETCHBUS_SHUTDOWN_GRACE_MS", "2000"))
        .compose(node -> {
          first[0] = node.process();
          return crawlOn(node.fb()).compose(id -> CrawlChecks.midCrawl(vertx, site, 3).map(id));
        })
        .compose(id -> {
          terminatedAt[0] = System.currentTimeMillis();
          first[0].terminate();
          // 2 s of grace, then the leases are released and the rest stops at once.
          return first[0].exited(20_000).compose(code -> CrawlChecks.leased(vertx).compose(leased -> first[0].readOutput()
              .map(out -> {
            ctx.verify(() -> {
              assertThat(code).as("exit code after SIGTERM").isEqualTo(SIGTERM_EXIT);
              assertThat(leased).as("leases left held").isZero();
              assertThat(System.currentTimeMillis() - terminatedAt[0]).isLessThan(15_000);
              assertThat(count(Pattern.compile("(\\d+) crawl fetches still in flight after the grace period"), out))
                  .isPositive();
              assertThat(count(Pattern.compile("released (\\d+) crawl leases"), out)).isPositive();
              assertThat(out).containsSubsequence("shutting down: /ready is red", "stopping the API", "stopped the API",
                  "stopping crawling", "released", "stopped crawling", "stopping fetching", "stopping extraction",
                  "stopping the store", "stopped the store", "shut down in");
            });
            return id;
          })));
        })
        .compose(id -> {
          site.release();
          return start("sigterm-2", Map.of())
              .compose(node -> JobClient.finished(node.fb(), "/v1/crawls/" + id)
                  .compose(job -> CrawlChecks.exactPages(node.fb(), id, expected).map(job)))
              .compose(job -> TestDatabase.count(vertx, "SELECT count(*) FROM frontier WHERE error_class = 'lease-expired'")
                  .map(expired -> {
                    ctx.verify(() -> {
                      assertThat(job.getString("status")).isEqualTo("completed");
                      assertThat(expired).as("entries returned by lease expiry").isZero();
                    });
                    return null;
                  }));
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("SIGTERM mid-crawl: the API closes first, crawl fetches in flight finish and are stored within the grace "
      + "period, nothing new is claimed, and the process exits without waiting out the grace period")
  void inFlightFetchesFinishWithinGrace(VertxTestContext ctx) {
    ServiceProcess[] p = new ServiceProcess[1];
    ServiceUnderTest[] fb = new ServiceUnderTest[1];
    long[] terminatedAt = new long[1];
    start("sigterm-drain", Map.of("FETCHBUS_SHUTDOWN_GRACE_MS", "30000"))
        .compose(node -> {
          p[0] = node.process();
          fb[0] = node.fb();
          return crawlOn(node.fb()).compose(id -> CrawlChecks.midCrawl(vertx, site, 3).map(id));
        })
        .compose(id -> TestDatabase.count(vertx, "SELECT count(*) FROM frontier WHERE state = 'done'").compose(doneBefore -> {
          int held = site.heldCount();
          terminatedAt[0] = System.currentTimeMillis();
          p[0].terminate();
          return p[0].awaitLog(Pattern.compile("waiting up to \\d+ ms for (\\d+) crawl fetches in flight"))
              .compose(waiting -> fb[0].get("/ready").map(r -> "answered " + r.statusCode()).otherwise(err -> "refused")
                  .compose(ready -> {
                    int requestedBeforeRelease = site.requested().size();
                    site.release();
                    return p[0].exited(20_000).compose(code -> Future.all(CrawlChecks.leased(vertx),
                            TestDatabase.count(vertx, "SELECT count(*) FROM frontier WHERE state = 'done'"),
                            TestDatabase.count(vertx, "SELECT count(*) FROM pages WHERE job_id = '" + id + "'"),
                            p[0].readOutput())
                        .map(counts -> {
                          String out = counts.resultAt(3);
                          ctx.verify(() -> {
                            assertThat(code).isEqualTo(SIGTERM_EXIT);
                            assertThat(System.currentTimeMillis() - terminatedAt[0]).as("ms to exit").isLessThan(15_000);
                            assertThat(ready).as("GET /ready once the API has stopped").isEqualTo("refused");
                            assertThat(Integer.parseInt(waiting.group(1))).isEqualTo(held);
                            // The held fetches completed during the drain (all but the /fail/ ones are pages)...
                            assertThat(counts.<Long>resultAt(0)).as("leases left held").isZero();
                            assertThat(counts.<Long>resultAt(1)).isGreaterThan(doneBefore);
                            assertThat(counts.<Long>resultAt(2)).isEqualTo(counts.<Long>resultAt(1));
                            // ...and nothing new was fetched once the crawl stopped claiming.
                            assertThat(site.requested()).hasSize(requestedBeforeRelease);
                            assertThat(out).contains("released 0 crawl leases")
                                .doesNotContain("still in flight after the grace period");
                          });
                          return null;
                        }));
                  }));
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("SIGTERM mid-crawl on the embedded PostgreSQL (the README's run command): the drain stores its pages and "
      + "releases its leases before the database stops, last; a restart on the same data completes the job")
  void embeddedDatabaseStopsLast(VertxTestContext ctx) throws IOException {
    Set<String> expected = TestSite.pages(site.reachable(3, link -> true));
    Path data = Files.createTempDirectory("fetchbus-embedded-shutdown");
    Map<String, String> embedded = new HashMap<>(Map.of("FETCHBUS_PG_URL", "",
        "FETCHBUS_PG_EMBEDDED_DATA_DIR", data.toString(), "FETCHBUS_SHUTDOWN_GRACE_MS", "30000"));
    ServiceProcess[] p = new ServiceProcess[1];
    String[] jobId = new String[1];
    start("embedded-1", embedded)
        .compose(node -> {
          p[0] = node.process();
          site.hold();
          return JobClient.crawl(node.fb(), new JsonObject().put("url", site.url("/p/0")).put("sitemap", "skip").put("maxDepth", 3));
        })
        .compose(id -> {
          jobId[0] = id;
          // Mid-crawl without looking into its database: the seed passed, and fetches are held at the site.
          return Poll.until(vertx, () -> Future.succeededFuture(site.heldCount() >= 1)).compose(v -> {
            site.release();
            site.hold();
            return Poll.until(vertx, () -> Future.succeededFuture(site.heldCount() >= 3));
          });
        })
        .compose(v -> {
          p[0].terminate();
          return p[0].awaitLog(Pattern.compile("waiting up to \\d+ ms for (\\d+) crawl fetches in flight"));
        })
        .compose(waiting -> {
          site.release(); // the fetches in flight finish during the drain, and are stored
          return p[0].exited(60_000).compose(code -> p[0].readOutput().map(out -> {
            ctx.verify(() -> {
              assertThat(code).isEqualTo(SIGTERM_EXIT);
              assertThat(out).doesNotContain("the store is unavailable").doesNotContain("they expire in")
                  .contains("released 0 crawl leases")
                  .containsSubsequence("stopped crawling", "stopped the store", "shut down in",
                      "stopping the embedded PostgreSQL", "stopped the embedded PostgreSQL");
            });
            return null;
          }));
        })
        .compose(v -> start("embedded-2", embedded))
        .compose(node -> JobClient.finished(node.fb(), "/v1/crawls/" + jobId[0]).compose(job -> JobClient.all(node.fb(),
            "/v1/crawls/" + jobId[0] + "/pages").map(pages -> {
          ctx.verify(() -> {
            assertThat(job.getString("status")).isEqualTo("completed");
            assertThat(CrawlChecks.paths(pages)).isEqualTo(expected);
            assertThat(pages).hasSize(expected.size());
          });
          return null;
        })).eventually(() -> {
          node.process().terminate(); // and its database with it, as above
          return node.process().exited(60_000);
        }))
        .onComplete(ctx.succeedingThenComplete());
  }
}
