package io.fetchbus.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The queue of crawl completions waiting for their job's batch is bounded: past it, a completion fails at once. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class CrawlCompletionsTest extends TestBase {
  private static final int MAX_QUEUED = 4;

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    // The service's own crawl loop stays out of the way; the store's queues hold 4.
    ServiceUnderTest.fresh(vertx, new JsonObject()
            .put("crawl", new JsonObject().put("pollMs", 3_600_000).put("leaseMs", 3_600_000))
            .put("pg", new JsonObject().put("maxWaitQueue", MAX_QUEUED)))
        .onComplete(ctx.succeedingThenComplete());
  }

  private Future<JsonObject> request(String address, JsonObject body) {
    return vertx.eventBus().<JsonObject>request(address, body).map(Message::body);
  }

  @Test
  @DisplayName("while a job's completion waits for its lock, 4 more wait in the store; the next one fails with 503 at "
      + "once, and the 5 waiting are stored once the lock is free")
  void boundedQueue(VertxTestContext ctx) {
    JsonArray seeds = new JsonArray();
    for (int i = 0; i < MAX_QUEUED + 2; i++) {
      String host = "h" + i + ".example.com"; // a host each: a claim leases at most 4 per host
      String url = "http://" + host + "/";
      seeds.add(new JsonObject().put("url", url).put("key", url).put("host", host));
    }
    Pool locker = PgBuilder.pool().connectingTo(TestDatabase.connectOptions()).using(vertx).build();
    request(Bus.JOBS_CREATE, new JsonObject().put("kind", "batch").put("spec", new JsonObject()).put("limit", 10)
            .put("seeds", seeds))
        .compose(created -> request(Bus.FRONTIER_CLAIM, new JsonObject().put("owner", "node-a").put("max", 10)
            .put("leaseMs", 3_600_000)))
        .compose(claimed -> locker.getConnection().compose(conn -> conn.begin().compose(tx -> conn
            .query("SELECT 1 FROM crawl_jobs FOR UPDATE").execute().compose(locked -> {
              JsonArray leases = claimed.getJsonArray("entries");
              List<Future<JsonObject>> first = new ArrayList<>();
              first.add(request(Bus.FRONTIER_COMPLETE, completion(leases.getJsonObject(0))));
              return TestDatabase.someoneWaitsForALock(vertx).compose(w -> {
                List<Future<JsonObject>> queued = new ArrayList<>();
                for (int i = 1; i <= MAX_QUEUED; i++) {
                  queued.add(request(Bus.FRONTIER_COMPLETE, completion(leases.getJsonObject(i))));
                }
                Future<JsonObject> over = request(Bus.FRONTIER_COMPLETE, completion(leases.getJsonObject(MAX_QUEUED + 1)));
                return over.transform(refused -> tx.commit()
                    .compose(c -> Future.join(first.get(0), Future.join(queued)))
                    .compose(all -> TestDatabase.count(vertx, "SELECT count(*) FROM pages"))
                    .map(pages -> {
                      ctx.verify(() -> {
                        assertThat(refused.failed()).isTrue();
                        assertThat(Failure.UNAVAILABLE.is(refused.cause())).as(String.valueOf(refused.cause())).isTrue();
                        assertThat(refused.cause()).hasMessageContaining("crawl completions waiting");
                        assertThat(pages).isEqualTo(MAX_QUEUED + 1);
                      });
                      return null;
                    }));
              });
            })).eventually(conn::close)))
        .eventually(locker::close)
        .onComplete(ctx.succeedingThenComplete());
  }

  private static JsonObject completion(JsonObject lease) {
    String url = lease.getString("url");
    JsonObject page = new JsonObject().put("url", url).put("finalUrl", url).put("status", 200)
        .put("contentType", "text/plain").put("body", Buffer.buffer("hello " + url))
        .put("fetchedAt", Instant.now());
    return new JsonObject().put("jobId", lease.getString("jobId")).put("urlKey", lease.getString("urlKey"))
        .put("token", lease.getString("token")).put("page", page).put("links", new JsonArray());
  }
}
