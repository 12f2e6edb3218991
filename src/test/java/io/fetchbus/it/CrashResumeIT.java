package io.fetchbus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.CrawlChecks;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.JobClient;
import io.fetchbus.support.Processes;
import io.fetchbus.support.ServiceProcess;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.fetchbus.support.TestSite;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** kill -9 of the fat jar in the middle of a crawl, then a restart: the job resumes from PostgreSQL. */
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class CrashResumeIT extends TestBase {
  private static final int SIGKILL_EXIT = 128 + 9;

  @RegisterExtension
  final Processes processes = new Processes();
  private TestSite site;

  @BeforeEach
  void startSite(VertxTestContext ctx) {
    TestSite.start(vertx, 120).onSuccess(s -> site = s).onComplete(ctx.succeedingThenComplete());
  }

  /** Short leases, so that the dead node's expire within seconds. */
  private ServiceProcess launch(String name) {
    Map<String, String> env = ServiceProcess.baseEnv();
    env.put("FETCHBUS_CRAWL_LEASE_MS", "3000");
    env.put("FETCHBUS_CRAWL_MAX_ATTEMPTS", "3");
    return processes.launch(vertx, name, env);
  }

  @Test
  @DisplayName("kill -9 mid-crawl, then a restart: the dead node's leases expire, the job resumes and completes with "
      + "exactly the expected pages, each stored once")
  void killNineThenResume(VertxTestContext ctx) {
    Set<String> expected = TestSite.pages(site.reachable(3, link -> true));
    ServiceProcess first = launch("kill9-1");
    site.hold();
    first.port()
        .compose(port -> TestDatabase.truncate(vertx).compose(v -> JobClient.crawl(ServiceUnderTest.at(vertx, port),
            new JsonObject().put("url", site.url("/p/0")).put("sitemap", "skip").put("maxDepth", 3))))
        .compose(id -> CrawlChecks.midCrawl(vertx, site, 3).map(id))
        .compose(id -> {
          first.kill();
          return first.exited(10_000).compose(code -> CrawlChecks.leased(vertx).compose(leased -> first.readOutput()
              .map(out -> {
                ctx.verify(() -> {
                  assertThat(code).as("exit code after SIGKILL").isEqualTo(SIGKILL_EXIT);
                  assertThat(leased).as("leases the dead node could not give back").isPositive();
                  assertThat(out).doesNotContain("shutting down");
                });
                return id;
              })));
        })
        .compose(id -> {
          site.release();
          ServiceProcess second = launch("kill9-2");
          return second.port().map(port -> ServiceUnderTest.at(vertx, port))
              .compose(fb -> JobClient.finished(fb, "/v1/crawls/" + id)
                  .compose(job -> CrawlChecks.exactPages(fb, id, expected).map(job)))
              .compose(job -> second.awaitLog(Pattern.compile("returned (\\d+) expired crawl leases")).map(reaped -> {
                ctx.verify(() -> {
                  assertThat(job.getString("status")).isEqualTo("completed");
                  assertThat(job.getInteger("completed")).isEqualTo(expected.size());
                  assertThat(Integer.parseInt(reaped.group(1))).isPositive();
                });
                return null;
              }));
        })
        .onComplete(ctx.succeedingThenComplete());
  }
}
