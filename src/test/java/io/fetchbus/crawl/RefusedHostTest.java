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
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A crawl node that refuses an entry itself (503) gives it back uncounted and leaves its host to the other crawl
 * nodes until the entry is due again and two polls have passed: in a split, the half without the origin's lease must
 * not take the entry back each time it is due, ahead of the half that holds it (as its poll timer, in a fixed phase
 * just ahead of the other half's, once did in {@code ClusterIT.aSplitNeverDoublesThePerHostLimit}). The node here
 * has no fetch role, so every fetch it asks for finds no handler: a real 503 of its own, as the half without the
 * lease answers. Alone, it takes the entry again once the skip is over.
 */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class RefusedHostTest extends TestBase {
  private static final long POLL_MS = 50;

  @Test
  @DisplayName("an entry this node refused (503) goes back uncounted, its host skipped by every claim until it is due "
      + "and two polls have passed, and then taken again")
  void refusedHostIsSkippedUntilDue(VertxTestContext ctx) {
    List<JsonObject> retries = new CopyOnWriteArrayList<>();
    List<JsonObject> claims = new CopyOnWriteArrayList<>();
    vertx.eventBus().addOutboundInterceptor((DeliveryContext<Object> dc) -> {
      String address = dc.message().address();
      if (dc.message().body() instanceof JsonObject body
          && (Bus.FRONTIER_RETRY.equals(address) || Bus.FRONTIER_CLAIM.equals(address))) {
        (Bus.FRONTIER_RETRY.equals(address) ? retries : claims).add(body.copy().put("sentAtNs", System.nanoTime()));
      }
      dc.next();
    });
    JsonObject overrides = new JsonObject()
        .put("roles", new JsonArray(List.of("api", "store", "crawl", "extract")))
        // Two attempts: were a refusal counted, the entry would have failed at the second.
        .put("crawl", new JsonObject().put("pollMs", POLL_MS).put("maxAttempts", 2));
    ServiceUnderTest.fresh(vertx, overrides)
        // Never fetched: no node here has the fetch role.
        .compose(fb -> JobClient.crawl(fb, new JsonObject().put("url", "http://127.0.0.1:9/p/0").put("sitemap", "skip")
            .put("maxDepth", 0)))
        .compose(id -> Poll.until(vertx, () -> Future.succeededFuture(retries.size() >= 3))
            .compose(v -> TestDatabase.rows(vertx, "SELECT host, state FROM frontier WHERE job_id = '" + id + "'"))
            .map(rows -> {
              ctx.verify(() -> {
                assertThat(rows).singleElement().satisfies(row -> assertThat(row.getString("state")).isNotEqualTo("failed"));
                String host = rows.get(0).getString("host");
                assertThat(retries).allSatisfy(retry -> {
                  assertThat(retry.getString("outcome")).isEqualTo("requeue");
                  assertThat(retry.getString("errorClass")).isEqualTo("unavailable");
                });
                long firstNs = retries.get(0).getLong("sentAtNs");
                long skipMs = retries.get(0).getLong("delayMs") + 2 * POLL_MS;
                // Taken again only once the skip was over: not before it, however fast the machine.
                assertThat(TimeUnit.NANOSECONDS.toMillis(retries.get(1).getLong("sentAtNs") - firstNs))
                    .isGreaterThanOrEqualTo(skipMs);
                assertThat(claims).filteredOn(c -> c.getLong("sentAtNs") > firstNs
                        && c.getLong("sentAtNs") - firstNs < TimeUnit.MILLISECONDS.toNanos(skipMs)).isNotEmpty()
                    .allSatisfy(c -> assertThat(c.getJsonObject("busyHosts", new JsonObject())
                        .getJsonArray(id, new JsonArray()).getList()).as("hosts a claim skips").contains(host));
              });
              return null;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }
}
