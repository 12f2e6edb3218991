package io.fetchbus.crawl;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import io.fetchbus.support.JobClient;
import io.fetchbus.support.Poll;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A crawl node whose own engine refuses an entry (503) gives it back uncounted and leaves its host to the other crawl
 * nodes until the entry is due again: in a split, the half without the origin's lease must not take the entry back
 * each time it is due, ahead of the half that holds it (as its poll timer, in a fixed phase just ahead of the other
 * half's, once did in {@code ClusterIT.aSplitNeverDoublesThePerHostLimit}). The node here has no fetch role, so every
 * fetch it asks for finds no handler: a real 503 of its own, as the half without the lease answers.
 */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class RefusedHostTest extends TestBase {
  @Test
  @DisplayName("an entry this node could not fetch (503) goes back uncounted, and every claim this node sends until "
      + "the entry is due again skips its host")
  void refusedHostIsLeftToOtherNodes(VertxTestContext ctx) {
    AtomicLong requeuedAt = new AtomicLong();
    List<JsonObject> retries = new CopyOnWriteArrayList<>();
    List<JsonObject> claimsAfter = new CopyOnWriteArrayList<>();
    vertx.eventBus().addOutboundInterceptor((DeliveryContext<Object> dc) -> {
      String address = dc.message().address();
      if (Bus.FRONTIER_RETRY.equals(address) && dc.message().body() instanceof JsonObject retry
          && requeuedAt.compareAndSet(0, System.currentTimeMillis())) {
        retries.add(retry.copy());
      } else if (Bus.FRONTIER_CLAIM.equals(address) && dc.message().body() instanceof JsonObject claim
          && requeuedAt.get() != 0) {
        claimsAfter.add(claim.copy().put("sentAfterMs", System.currentTimeMillis() - requeuedAt.get()));
      }
      dc.next();
    });
    JsonObject overrides = new JsonObject()
        .put("roles", new JsonArray(List.of("api", "store", "crawl", "extract")))
        .put("crawl", new JsonObject().put("pollMs", 50));
    ServiceUnderTest.fresh(vertx, overrides)
        // Never fetched: no node here has the fetch role.
        .compose(fb -> JobClient.crawl(fb, new JsonObject().put("url", "http://127.0.0.1:9/p/0").put("sitemap", "skip")
            .put("maxDepth", 0)))
        // A claim every 50 ms, and one as the entry goes back: five well within the second before it is due.
        .compose(id -> Poll.until(vertx, () -> Future.succeededFuture(claimsAfter.size() >= 5))
            .compose(v -> TestDatabase.rows(vertx, "SELECT host FROM frontier WHERE job_id = '" + id + "'"))
            .map(rows -> {
              ctx.verify(() -> {
                assertThat(retries).singleElement().satisfies(retry -> {
                  assertThat(retry.getString("outcome")).isEqualTo("requeue");
                  assertThat(retry.getString("errorClass")).isEqualTo("unavailable");
                });
                long dueAfterMs = retries.get(0).getLong("delayMs");
                String host = rows.get(0).getString("host");
                assertThat(claimsAfter).filteredOn(c -> c.getLong("sentAfterMs") < dueAfterMs).isNotEmpty()
                    .allSatisfy(c -> assertThat(c.getJsonObject("busyHosts", new JsonObject())
                        .getJsonArray(id, new JsonArray()).getList()).as("hosts a claim skips").contains(host));
              });
              return null;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }
}
