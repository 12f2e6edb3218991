package io.fetchbus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.CrawlChecks;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.JobClient;
import io.fetchbus.support.Poll;
import io.fetchbus.support.PrivatePostgres;
import io.fetchbus.support.Processes;
import io.fetchbus.support.ServiceProcess;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestSite;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A crawl node frozen by SIGSTOP (a long GC pause, a paused VM) past its lease while it holds fetches: the other
 * node reaps its leases and fetches those pages again, and when the frozen node comes back with its late results,
 * the store refuses them (fencing), so every page is stored once. Two fat jars share one private PostgreSQL and one
 * job, without a cluster: the frontier in PostgreSQL is all they share, which is what the fencing rests on. The
 * other node starts while the first is frozen, so that every lease in flight is the frozen node's.
 */
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class NodeFreezeIT extends TestBase {
  private static final long LEASE_MS = 3_000;

  @RegisterExtension
  final PrivatePostgres db = new PrivatePostgres();
  /** Registered after the database, so its processes are killed before the database stops. */
  @RegisterExtension
  final Processes processes = new Processes();
  private TestSite site;

  @BeforeEach
  void start(VertxTestContext ctx) {
    TestSite.start(vertx, 60).onSuccess(s -> site = s).compose(s -> db.start(vertx)).onComplete(ctx.succeedingThenComplete());
  }

  private ServiceProcess launch(String name) {
    Map<String, String> env = ServiceProcess.baseEnv();
    env.put("FETCHBUS_PG_URL", db.url());
    env.put("FETCHBUS_CRAWL_LEASE_MS", String.valueOf(LEASE_MS));
    // The frozen node's fetches must come back as pages, not time out, when it is thawed.
    env.put("FETCHBUS_FETCH_TIMEOUT_MS", "60000");
    env.put("FETCHBUS_FETCH_FIRST_BYTE_TIMEOUT_MS", "60000");
    env.put("FETCHBUS_FETCH_IDLE_TIMEOUT_MS", "60000");
    return processes.launch(vertx, name, env);
  }

  private static void signal(ServiceProcess p, String signal) throws IOException, InterruptedException {
    new ProcessBuilder("kill", "-" + signal, String.valueOf(p.process.pid())).inheritIO().start().waitFor();
  }

  private Future<Void> signalLater(ServiceProcess p, String signal) {
    return vertx.executeBlocking(() -> {
      signal(p, signal);
      return null;
    }, false);
  }

  @Test
  @DisplayName("SIGSTOP of a crawl node holding fetches, past its lease: the other node reaps its leases and stores "
      + "those pages; thawed, the frozen node's late results are refused, it is ready again, and the job has every "
      + "page exactly once")
  void frozenPastTheLease(VertxTestContext ctx) {
    Set<String> expected = TestSite.pages(site.reachable(3, link -> true));
    ServiceProcess a = launch("freeze-a");
    ServiceProcess[] b = new ServiceProcess[1];
    ServiceUnderTest[] api = new ServiceUnderTest[2];
    String[] job = new String[1];
    site.hold();
    a.port()
        .compose(port -> {
          api[0] = ServiceUnderTest.at(vertx, port);
          return JobClient.crawl(api[0], new JsonObject().put("url", site.url("/p/0")).put("sitemap", "skip").put("maxDepth", 3));
        })
        // A holds fetches at the site: the seed let through, then every leased entry's request held.
        .compose(id -> {
          job[0] = id;
          return CrawlChecks.midCrawl(vertx, site, 2, db.connectOptions());
        })
        .compose(v -> signalLater(a, "STOP"))
        // B starts while A is frozen (which takes longer than A's leases last), reaps A's expired leases and claims
        // them: B fetches those pages again.
        .compose(v -> {
          b[0] = launch("freeze-b");
          return b[0].port();
        })
        .compose(port -> {
          api[1] = ServiceUnderTest.at(vertx, port);
          return b[0].awaitLog(Pattern.compile("returned (\\d+) expired crawl leases"));
        })
        .compose(reaped -> {
          site.release();
          return JobClient.finished(api[1], "/v1/crawls/" + job[0]);
        })
        .compose(done -> CrawlChecks.exactPages(api[1], job[0], expected, db.connectOptions()).map(done))
        .compose(done -> signalLater(a, "CONT").map(done))
        // Thawed, A finishes the fetches it held and hands their results in under leases that are no longer its.
        .compose(done -> a.awaitLog(Pattern.compile("the store refused the result for"))
            .compose(refused -> Poll.until(vertx, () -> api[0].get("/ready").map(r -> r.statusCode() == 200)))
            .compose(ready -> CrawlChecks.exactPages(api[0], job[0], expected, db.connectOptions()))
            .map(done))
        .onComplete(ctx.succeeding(done -> ctx.verify(() -> {
          assertThat(done.getString("status")).isEqualTo("completed");
          assertThat(done.getInteger("completed")).isEqualTo(expected.size());
          assertThat(expected.stream().filter(p -> site.hits(p) > 1)).as("pages fetched by both nodes").isNotEmpty();
          ctx.completeNow();
        })));
  }
}
