package io.fetchbus.crawl;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.fetchbus.support.CrawlSetup;
import io.fetchbus.support.CrawlChecks;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.JobClient;
import io.fetchbus.support.Poll;
import io.fetchbus.support.PrivatePostgres;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestSite;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * The faults of a database server a crawl must survive, done to a PostgreSQL of the test's own ({@link
 * PrivatePostgres}) while fetches are in flight: killed ({@code kill -9}) and restarted, its backends terminated
 * over and over, frozen (SIGSTOP) and thawed. The audit's durations (a 20 s and a 75 s freeze against a 10 s store
 * timeout and a 60 s lease) are scaled down with the settings, keeping what makes each case: an outage shorter or
 * longer than the store's request timeout, shorter or longer than the lease. Each crawl must complete with exactly
 * the reachable pages, each stored once, the service must be ready again, and each outage is said once in the log
 * as it starts and once as it ends.
 */
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class DatabaseFaultsTest extends TestBase {
  /** What the store waits for PostgreSQL per request (pg.requestTimeoutMs, 10 s by default). */
  private static final long STORE_TIMEOUT_MS = 1_500;
  /**
   * A lease the short cases' outages stay well within (60 s by default), renewed every third of it. A claim whose
   * commit PostgreSQL made but whose answer the kill or the freeze lost gives its leases back at the next claim
   * ({@link #claimWhoseAnswerWasLost}), so the lease's length does not slow these cases down.
   */
  private static final long LONG_LEASE_MS = 20_000;
  /** The lease of the restarts (the server is back in 2-3 s here): long enough for them. */
  private static final long RESTART_LEASE_MS = 10_000;
  /** The lease of the service's defaults (crawl.leaseMs). */
  private static final long DEFAULT_LEASE_MS = 60_000;
  /** A lease the long cases outlast (pg.requestTimeoutMs < it). */
  private static final long SHORT_LEASE_MS = 3_000;
  private static final int DEPTH = 3;

  @RegisterExtension
  final PrivatePostgres db = new PrivatePostgres();
  private final Logger fetchbus = (Logger) LoggerFactory.getLogger("io.fetchbus");
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private TestSite site;
  private Set<String> expected;
  /** The steps taken so far, each with the seconds since the test began: the timeline a stuck test reports. */
  private final List<String> steps = new java.util.concurrent.CopyOnWriteArrayList<>();
  private long began;

  @BeforeEach
  void start(VertxTestContext ctx) {
    logged.start();
    fetchbus.addAppender(logged);
    TestSite.start(vertx, 60)
        .compose(s -> {
          site = s;
          expected = TestSite.pages(s.reachable(DEPTH, link -> true));
          return db.start(vertx);
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * Fails the test a little before its timeout with the steps it took, so that a run that hangs says where: the
   * timeout of vertx-junit5 only says that it timed out.
   */
  private void watch(VertxTestContext ctx) {
    began = System.nanoTime();
    vertx.setTimer(110_000, t -> ctx.failNow(new AssertionError("stuck after these steps: " + steps)));
  }

  /** Notes a step of the test's timeline, and passes {@code work} through. */
  private <T> Future<T> step(String name, Future<T> work) {
    steps.add(name + " @" + (System.nanoTime() - began) / 100_000_000 / 10.0 + " s");
    return work;
  }

  @AfterEach
  void detach() {
    fetchbus.detachAppender(logged);
  }

  /** The service on the private server, with the store timeout and the lease of the case. */
  private Future<ServiceUnderTest> deploy(long leaseMs) {
    return deploy(leaseMs, new JsonObject());
  }

  private Future<ServiceUnderTest> deploy(long leaseMs, JsonObject crawl) {
    return step("deploy", ServiceUnderTest.deploy(vertx, CrawlSetup.config().mergeIn(new JsonObject()
        .put("pg", new JsonObject().put("url", db.url()).put("connectTimeoutMs", 1_000).put("acquireTimeoutMs", 1_000)
            .put("requestTimeoutMs", STORE_TIMEOUT_MS))
        .put("crawl", crawl.copy().put("leaseMs", leaseMs).put("maxAttempts", 3)), true))
        .onSuccess(f -> fb = f));
  }

  /** Submits the crawl of the site and brings it to the middle of its run: pages stored, fetches held in flight. */
  private Future<String> crawlInFlight() {
    site.hold();
    return step("crawl submitted", JobClient.crawl(fb, CrawlSetup.linksOnly(site).put("maxDepth", DEPTH)))
        .compose(id -> step("crawl mid-run", CrawlChecks.midCrawl(vertx, site, 3, db.connectOptions()).map(id)));
  }

  /** Waits until the site holds a request: a fetch in flight. */
  private Future<Void> heldInFlight() {
    return step("fetch in flight", Poll.until(vertx, () -> Future.succeededFuture(site.heldCount() >= 1)));
  }

  private Future<Void> readyIs(int status) {
    return step("/ready " + status, Poll.until(vertx, () -> fb.get("/ready").map(r -> r.statusCode() == status)));
  }

  private Future<Void> kill() {
    return step("kill", db.kill(vertx));
  }

  private Future<Void> restart() {
    return step("restart", db.restart(vertx));
  }

  private Future<Void> freeze() {
    return step("freeze", db.freeze(vertx));
  }

  private Future<Void> thaw() {
    return step("thaw", db.thaw(vertx));
  }

  /** The job finished: completed, with exactly the expected pages, one row each. */
  private Future<JsonObject> completedExactly(String id) {
    return step("crawl finished", JobClient.finished(fb, "/v1/crawls/" + id))
        .compose(job -> CrawlChecks.exactPages(fb, id, expected, db.connectOptions()).map(job))
        .map(job -> {
          assertThat(job.getString("status")).isEqualTo("completed");
          assertThat(job.getInteger("completed")).isEqualTo(expected.size());
          return job;
        });
  }

  /**
   * The pages stored at a second attempt or later, with their attempts: entries whose lease expired (or whose
   * result was dropped) and that were fetched again. A fetch that failed and was retried ends in no page here.
   */
  private Future<List<String>> fetchedAgain() {
    return db.rows(vertx, "SELECT url, attempts FROM frontier WHERE state = 'done' AND attempts > 1 ORDER BY url")
        .map(rows -> rows.stream().map(r -> r.getString("url") + " x" + r.getInteger("attempts")).toList());
  }

  /** The store's outage lines ({@code PostgreSQL at <where> ...}) that contain {@code containing}. */
  private List<String> warnings(String containing) {
    return logged.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage)
        .filter(m -> m.startsWith("PostgreSQL at ") && m.contains(containing)).toList();
  }

  /**
   * Done once {@code outages} outages were logged as ended: an outage ends after PostgreSQL has answered for a
   * second without a failure (the store's probe asks every second), which may come after the crawl's end.
   */
  private Future<Void> outagesEnded(int outages) {
    return step("outages ended", Poll.until(vertx, () -> Future.succeededFuture(warnings("reachable again").size() >= outages)));
  }

  /** Each of {@code outages} was logged once as it started and once as it ended, and nothing at ERROR. */
  private void outagesLogged(int outages) {
    assertThat(warnings("cannot be reached")).as("outages logged as they started").hasSize(outages);
    assertThat(warnings("reachable again")).as("outages logged as they ended").hasSize(outages);
    assertThat(logged.list).filteredOn(e -> e.getLevel() == Level.ERROR).map(ILoggingEvent::getFormattedMessage)
        .isEmpty();
  }

  /**
   * The fault {@code during} with fetches in flight, which are let through while it lasts (their pages come back
   * while the database cannot take them), then {@code after} ends it; done once the service is ready again.
   */
  private Future<Void> fault(Function<Void, Future<Void>> during, Function<Void, Future<Void>> after) {
    return during.apply(null)
        .compose(v -> {
          step("site released", Future.succeededFuture());
          site.release();
          return after.apply(null);
        })
        .compose(v -> readyIs(200));
  }

  @Test
  @DisplayName("PostgreSQL killed (kill -9 of every process) and restarted twice mid-crawl, for less than the lease: "
      + "the crawl completes with exactly the reachable pages, each once, and the service is ready again")
  void killedAndRestartedTwice(VertxTestContext ctx) {
    watch(ctx);
    // Two outages: the second kill waits until the first outage was logged as ended (a server killed again within
    // StoreOutage.SETTLE_MS is one outage). It needs a fetch in flight too: the site holds what the crawl fetches once
    // the server is back (the fetches the first kill cut off are among them, so there always is one).
    deploy(RESTART_LEASE_MS)
        .compose(f -> crawlInFlight())
        .compose(id -> fault(v -> kill().compose(x -> readyIs(503)), v -> {
              site.hold();
              return restart();
            })
            .compose(v -> outagesEnded(1))
            .compose(v -> heldInFlight())
            .compose(v -> fault(x -> kill().compose(y -> readyIs(503)), x -> restart()))
            .compose(v -> completedExactly(id)))
        .compose(job -> outagesEnded(2))
        .onComplete(ctx.succeeding(job -> ctx.verify(() -> {
          outagesLogged(2);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("PostgreSQL killed mid-crawl and down for longer than the lease: the results of the fetches in flight "
      + "are dropped when their leases end, the entries are reaped after the restart and fetched again, and the "
      + "crawl completes with exactly the reachable pages, each once")
  void killedForLongerThanTheLease(VertxTestContext ctx) {
    watch(ctx);
    deploy(SHORT_LEASE_MS)
        .compose(f -> crawlInFlight())
        .compose(id -> fault(v -> kill().compose(x -> readyIs(503)),
                v -> vertx.timer(2 * SHORT_LEASE_MS).compose(t -> restart()))
            .compose(v -> completedExactly(id)))
        .compose(job -> outagesEnded(1).compose(v -> fetchedAgain()))
        .onComplete(ctx.succeeding(again -> ctx.verify(() -> {
          assertThat(again).as("pages fetched again (a lease expired)").isNotEmpty();
          outagesLogged(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("backends terminated in a storm (pg_terminate_backend of every connection of the service every 20 ms "
      + "for 3 s) mid-crawl: the crawl completes with exactly the reachable pages, each once, and the log stays short")
  void terminateStorm(VertxTestContext ctx) {
    Pool admin = PgBuilder.pool().with(new PoolOptions().setMaxSize(1)).connectingTo(db.connectOptions()).using(vertx).build();
    long[] storm = {-1};
    int[] terminated = {0};
    watch(ctx);
    deploy(LONG_LEASE_MS)
        .compose(f -> crawlInFlight())
        .compose(id -> fault(v -> {
          storm[0] = vertx.setPeriodic(20, t -> admin.query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                  + "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'").execute()
              .onSuccess(rows -> terminated[0] += rows.iterator().next().getInteger(0)));
          return Future.succeededFuture();
        }, v -> vertx.timer(3_000).map(t -> {
          vertx.cancelTimer(storm[0]);
          return null;
        })).compose(v -> completedExactly(id)))
        .eventually(admin::close)
        .onComplete(ctx.succeeding(job -> ctx.verify(() -> {
          assertThat(terminated[0]).as("backends terminated").isPositive();
          assertThat(logged.list).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN)).as("lines at WARN or above")
              .hasSizeLessThanOrEqualTo(10);
          assertThat(logged.list).filteredOn(e -> e.getLevel() == Level.ERROR).isEmpty();
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("PostgreSQL frozen (SIGSTOP of the postmaster and every backend) mid-crawl for longer than the store's "
      + "request timeout: /ready turns red, and after the thaw the crawl completes with exactly the reachable pages, "
      + "each once; the outage is logged once as it starts and once as it ends")
  void frozenLongerThanTheStoreTimeout(VertxTestContext ctx) {
    watch(ctx);
    deploy(LONG_LEASE_MS)
        .compose(f -> crawlInFlight())
        .compose(id -> fault(v -> freeze().compose(x -> vertx.timer(2 * STORE_TIMEOUT_MS)).compose(t -> readyIs(503)),
                v -> thaw())
            .compose(v -> completedExactly(id)))
        .compose(job -> outagesEnded(1))
        .onComplete(ctx.succeeding(job -> ctx.verify(() -> {
          outagesLogged(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("PostgreSQL frozen mid-crawl for longer than the lease: after the thaw the expired leases are reaped, "
      + "late writes under them refused, and the crawl completes with exactly the reachable pages, each once")
  void frozenLongerThanTheLease(VertxTestContext ctx) {
    watch(ctx);
    deploy(SHORT_LEASE_MS)
        .compose(f -> crawlInFlight())
        .compose(id -> fault(v -> freeze().compose(x -> readyIs(503)),
                v -> vertx.timer(2 * SHORT_LEASE_MS).compose(t -> thaw()))
            .compose(v -> completedExactly(id)))
        .compose(job -> outagesEnded(1).compose(v -> fetchedAgain()))
        .onComplete(ctx.succeeding(again -> ctx.verify(() -> {
          assertThat(again).as("pages fetched again (a lease expired)").isNotEmpty();
          outagesLogged(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a claim held up in PostgreSQL past the store's timeout (its host row locked) commits after its answer "
      + "was lost: the leases it took are given back at the next claim, and the crawl completes with exactly the "
      + "reachable pages well within the lease, instead of waiting it out")
  void claimWhoseAnswerWasLost(VertxTestContext ctx) {
    long start = System.nanoTime();
    long[] unlockedAt = {0};
    watch(ctx);
    site.hold();
    // One fetch per host at a time: while one is held, claims pass the site's host by, and its other links wait.
    deploy(DEFAULT_LEASE_MS, new JsonObject().put("perHostInFlight", 1))
        .compose(f -> JobClient.crawl(fb, CrawlSetup.linksOnly(site).put("maxDepth", DEPTH)))
        .compose(id -> Poll.until(vertx, () -> Future.succeededFuture(site.heldCount() >= 1))
            .compose(v -> {
              site.release();
              site.hold(); // the seed is stored; one of its links is fetched and held, the others are queued
              return Poll.until(vertx, () -> db.count(vertx, "SELECT count(*) FROM frontier WHERE state = 'queued'")
                  .map(queued -> queued > 0 && site.heldCount() == 1));
            })
            .map(id))
        .compose(id -> PgConnection.connect(vertx, db.connectOptions()).compose(admin -> admin.begin()
            // The lock stops the next claim at its update of the job's hosts, after it leased its entries.
            .compose(tx -> admin.query("SELECT 1 FROM crawl_hosts WHERE job_id = '" + id + "' FOR UPDATE").execute()
                .compose(locked -> {
                  site.release(); // the held page is stored: the host is free, and a claim leases a queued link
                  return Poll.until(vertx, () -> db.count(vertx, "SELECT count(*) FROM pg_stat_activity "
                      + "WHERE wait_event_type = 'Lock' AND query LIKE '%UPDATE crawl_hosts%' "
                      + "AND now() - query_start > make_interval(secs => " + 2 * STORE_TIMEOUT_MS / 1000.0 + ")")
                      .map(n -> n > 0));
                })
                .compose(waited -> tx.commit()))
            .eventually(admin::close))
            .compose(v -> {
              unlockedAt[0] = System.nanoTime();
              return completedExactly(id);
            }))
        .onComplete(ctx.succeeding(job -> ctx.verify(() -> {
          long ms = (System.nanoTime() - unlockedAt[0]) / 1_000_000;
          assertThat(logged.list).filteredOn(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage)
              .as("the claim whose answer was lost took leases, which were given back")
              .anyMatch(m -> m.startsWith("gave back ") && m.contains("whose claim's answer or result was lost"));
          assertThat(ms).as("ms from the unlock to the crawl's end (lease %d ms, test began %d ms before)",
              DEFAULT_LEASE_MS, (unlockedAt[0] - start) / 1_000_000).isLessThan(DEFAULT_LEASE_MS / 2);
          ctx.completeNow();
        })));
  }
}
