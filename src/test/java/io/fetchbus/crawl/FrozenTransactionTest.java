package io.fetchbus.crawl;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.config.ConfigLoader;
import io.fetchbus.store.StoreConnections;
import io.fetchbus.support.CrawlSetup;
import io.fetchbus.support.CrawlChecks;
import io.fetchbus.support.JobClient;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.fetchbus.support.TestSite;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Tuple;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A node frozen (SIGSTOP, a long GC pause) in the middle of one of its store's transactions holds that transaction's
 * locks. Here the frozen node is a connection made exactly as a store makes its own ({@link StoreConnections}) that
 * locks a crawl job's row, as every claim and completion of the job does first, and then never says another word.
 * Before store sessions were bounded, every completion of the job queued behind that lock for as long as the node
 * stayed frozen, filling the pool of the node that was fine: the crawl never ended.
 */
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class FrozenTransactionTest extends TestBase {
  /** pg.requestTimeoutMs: how long a store session may sit idle inside a transaction. */
  private static final long STORE_TIMEOUT_MS = 2_000;
  private static final int DEPTH = 2;

  @Test
  @DisplayName("a session frozen inside a transaction that holds a crawl job's lock is ended by PostgreSQL after "
      + "pg.requestTimeoutMs: the job's completions then go through and the crawl ends with exactly its pages")
  void frozenInsideATransaction(VertxTestContext ctx) {
    JsonObject config = CrawlSetup.config().put("pg", new JsonObject().put("requestTimeoutMs", STORE_TIMEOUT_MS));
    // The whole configuration, as the service reads it, for a connection made as its store makes them.
    JsonObject effective = ConfigLoader.loadNow(ServiceUnderTest.config(config), Map.of());
    Promise<Throwable> ended = Promise.promise();
    TestSite[] site = {null};
    Set<String>[] expected = new Set[1];
    ServiceUnderTest[] fb = {null};
    PgConnection[] frozen = {null};
    TestSite.start(vertx, 40)
        .compose(s -> {
          site[0] = s;
          expected[0] = TestSite.pages(s.reachable(DEPTH, link -> true));
          return ServiceUnderTest.fresh(vertx, config);
        })
        .compose(f -> {
          fb[0] = f;
          site[0].hold();
          return JobClient.crawl(f, CrawlSetup.linksOnly(site[0]).put("maxDepth", DEPTH));
        })
        .compose(id -> CrawlChecks.midCrawl(vertx, site[0], 2)
            // The frozen node: a store session that takes the job's lock inside a transaction and goes silent.
            .compose(v -> PgConnection.connect(vertx, StoreConnections.options(vertx, effective)))
            .compose(conn -> {
              frozen[0] = conn;
              conn.closeHandler(v -> ended.tryComplete(null));
              conn.exceptionHandler(ended::tryComplete);
              return conn.query("BEGIN").execute()
                  .compose(r -> conn.preparedQuery("SELECT 1 FROM crawl_jobs WHERE id = $1::uuid FOR NO KEY UPDATE")
                      .execute(Tuple.of(id)));
            })
            // The fetches in flight come back, and their completions meet the lock.
            .compose(locked -> {
              site[0].release();
              return TestDatabase.someoneWaitsForALock(vertx);
            })
            .compose(v -> JobClient.finished(fb[0], "/v1/crawls/" + id))
            .compose(job -> CrawlChecks.exactPages(fb[0], id, expected[0]).map(job)))
        .compose(job -> ended.future().map(job))
        .onComplete(ctx.succeeding(job -> ctx.verify(() -> {
          assertThat(job.getString("status")).isEqualTo("completed");
          assertThat(job.getInteger("completed")).isEqualTo(expected[0].size());
          // The frozen session was ended by the server: a query on it now fails.
          frozen[0].query("SELECT 1").execute().onComplete(ar -> ctx.verify(() -> {
            assertThat(ar.failed()).as("the frozen session was closed by PostgreSQL").isTrue();
            ctx.completeNow();
          }));
        })));
  }
}
