package io.fetchbus.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.Rendezvous;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The origin leases' contract over the bus, against PostgreSQL, driven by hand as fetch nodes would: one holder per
 * bucket, renewals and releases fenced by the holder's token, a bucket taken over only once its lease has run out
 * by PostgreSQL's clock, and no deadlock when many nodes ask for everything at once.
 */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class OriginLeaseRoundsTest extends TestBase {
  private static final long LEASE_MS = 60_000;
  /** Node ids of this test's own, so that cleaning up touches no one else's leases. */
  private final String prefix = "test-" + UUID.randomUUID().toString().substring(0, 8);
  private final String a = prefix + "-a";
  private final String b = prefix + "-b";

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    ServiceUnderTest.fresh(vertx, new JsonObject()).onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void cleanUp(VertxTestContext ctx) {
    TestDatabase.count(vertx, "WITH d AS (DELETE FROM origin_leases WHERE starts_with(owner, '" + prefix
        + "') RETURNING 1) SELECT count(*) FROM d").onComplete(ctx.succeedingThenComplete());
  }

  /** Buckets nobody else uses in this test run: high numbers, away from those a live node of another test holds. */
  private static final int B1 = 251;
  private static final int B2 = 252;
  private static final int B3 = 253;

  private Future<Map<Integer, JsonObject>> round(String node, List<Integer> acquire, List<JsonObject> renew,
                                                  List<JsonObject> release) {
    JsonObject body = new JsonObject().put("node", node).put("leaseMs", LEASE_MS)
        .put("acquire", new JsonArray(new ArrayList<>(acquire))).put("renew", new JsonArray(new ArrayList<>(renew)))
        .put("release", new JsonArray(new ArrayList<>(release)));
    return vertx.eventBus().<JsonObject>request(Bus.ORIGIN_LEASES, body).map(Message::body).map(answer -> {
      Map<Integer, JsonObject> byBucket = new HashMap<>();
      answer.getJsonArray("leases").forEach(o -> byBucket.put(((JsonObject) o).getInteger("bucket"), (JsonObject) o));
      return byBucket;
    });
  }

  private static JsonObject lease(JsonObject row) {
    return new JsonObject().put("bucket", row.getInteger("bucket")).put("token", row.getLong("token"));
  }

  /** Makes bucket {@code bucket}'s lease run out now, as if its holder had not renewed it for a whole lease. */
  private Future<Long> expire(int bucket) {
    return TestDatabase.count(vertx, "WITH u AS (UPDATE origin_leases SET lease_until = clock_timestamp() - "
        + "interval '1 millisecond' WHERE bucket = " + bucket + " RETURNING 1) SELECT count(*) FROM u");
  }

  @Test
  @DisplayName("a bucket has one holder: another node's round is told who holds it and until when; only the "
      + "holder's token renews it, and a release with another token does nothing")
  void oneHolderFencedByToken(VertxTestContext ctx) {
    TestDatabase.count(vertx, "DELETE FROM origin_leases WHERE bucket IN (" + B1 + "," + B2 + "," + B3 + ") RETURNING 1")
        .recover(err -> Future.succeededFuture(0L))
        .compose(v -> round(a, List.of(B1, B2), List.of(), List.of()))
        .compose(first -> round(b, List.of(B2, B3), List.of(), List.of()).compose(second -> {
          JsonObject heldByA = first.get(B2);
          // B renews A's lease with a guessed token, and releases it with another: neither takes effect.
          JsonObject guessed = new JsonObject().put("bucket", B2).put("token", heldByA.getLong("token") + 1);
          return round(b, List.of(), List.of(guessed), List.of(lease(heldByA)))
              .compose(third -> round(a, List.of(), List.of(lease(first.get(B1)), lease(heldByA)), List.of()))
              .map(renewed -> {
                ctx.verify(() -> {
                  assertThat(first.get(B1).getString("node")).isEqualTo(a);
                  assertThat(heldByA.getString("node")).isEqualTo(a);
                  assertThat(second.get(B2).getString("node")).as("B2, asked for by B while A holds it").isEqualTo(a);
                  assertThat(second.get(B2).getLong("token")).isEqualTo(heldByA.getLong("token"));
                  assertThat(second.get(B2).getLong("msLeft")).isBetween(LEASE_MS - 5_000, LEASE_MS);
                  assertThat(second.get(B3).getString("node")).isEqualTo(b);
                  assertThat(renewed.get(B2).getString("node")).as("after B's tries").isEqualTo(a);
                  assertThat(renewed.get(B2).getLong("token")).isEqualTo(heldByA.getLong("token"));
                  assertThat(renewed.get(B2).getLong("untilMs")).isGreaterThanOrEqualTo(heldByA.getLong("untilMs"));
                });
                return null;
              });
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("once a lease has run out by PostgreSQL's clock another node takes the bucket with a new, greater "
      + "token, and the old holder's renewal does not take it back; a released bucket is free at once")
  void takeoverAfterExpiryAndRelease(VertxTestContext ctx) {
    round(a, List.of(B1, B2), List.of(), List.of())
        .compose(first -> expire(B1)
            .compose(v -> round(b, List.of(B1), List.of(), List.of()))
            .compose(takenOver -> round(a, List.of(), List.of(lease(first.get(B1))), List.of(lease(first.get(B2))))
                .compose(lateRenewal -> round(b, List.of(B2), List.of(), List.of()).map(afterRelease -> {
                  ctx.verify(() -> {
                    assertThat(takenOver.get(B1).getString("node")).isEqualTo(b);
                    assertThat(takenOver.get(B1).getLong("token")).isGreaterThan(first.get(B1).getLong("token"));
                    assertThat(lateRenewal.get(B1).getString("node")).as("A renews after B took over").isEqualTo(b);
                    assertThat(lateRenewal.get(B1).getLong("token")).isEqualTo(takenOver.get(B1).getLong("token"));
                    assertThat(afterRelease.get(B2).getString("node")).as("B2 after A released it").isEqualTo(b);
                  });
                  return null;
                }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("eight nodes asking for every bucket at once, ten rounds each: no round fails (no deadlock), and each "
      + "bucket has exactly one holder, which every answer names alike")
  void concurrentRoundsAgree(VertxTestContext ctx) {
    List<Integer> all = new ArrayList<>();
    for (int i = 0; i < Rendezvous.BUCKETS; i++) {
      all.add(i);
    }
    // The test's own nodes must not take buckets a live node of another test holds: only expired or free ones.
    List<Future<Void>> nodes = new ArrayList<>();
    Map<Integer, String> seen = new java.util.concurrent.ConcurrentHashMap<>();
    List<String> disagreements = new java.util.concurrent.CopyOnWriteArrayList<>();
    for (int n = 0; n < 8; n++) {
      String node = prefix + "-n" + n;
      Future<Void> chain = Future.succeededFuture();
      for (int r = 0; r < 10; r++) {
        chain = chain.compose(v -> round(node, all, List.of(), List.of()).map(answer -> {
          answer.forEach((bucket, row) -> {
            String holder = row.getString("node");
            String before = seen.putIfAbsent(bucket, holder);
            if (before != null && !before.equals(holder) && holder.startsWith(prefix)) {
              disagreements.add(bucket + ": " + before + " then " + holder);
            }
          });
          return null;
        }));
      }
      nodes.add(chain);
    }
    Future.all(nodes)
        .compose(v -> TestDatabase.count(vertx, "SELECT count(*) FROM origin_leases WHERE starts_with(owner, '"
            + prefix + "')"))
        .compose(ours -> TestDatabase.count(vertx, "SELECT count(DISTINCT bucket) FROM origin_leases").map(buckets -> {
          ctx.verify(() -> {
            assertThat(disagreements).as("a bucket whose holder changed while its lease ran").isEmpty();
            assertThat(buckets).isEqualTo((long) Rendezvous.BUCKETS);
            assertThat(ours).isPositive();
          });
          return null;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a round with a bucket out of range, a bad node id or a lease too short is refused with 400")
  void invalidRounds(VertxTestContext ctx) {
    JsonObject good = new JsonObject().put("node", a).put("leaseMs", LEASE_MS).put("acquire", new JsonArray());
    List<JsonObject> bad = List.of(good.copy().put("acquire", new JsonArray().add(Rendezvous.BUCKETS)),
        good.copy().put("node", "a'; DROP TABLE origin_leases; --"), good.copy().put("leaseMs", 10),
        good.copy().put("renew", new JsonArray().add(new JsonObject().put("bucket", 1))));
    Future.all(bad.stream().map(body -> vertx.eventBus().request(Bus.ORIGIN_LEASES, body)
            .transform(ar -> Future.succeededFuture(ar.failed() ? ar.cause() : null))).toList())
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          for (int i = 0; i < bad.size(); i++) {
            assertThat(Failure.INVALID.is(all.<Throwable>resultAt(i))).as(bad.get(i).encode()).isTrue();
          }
          ctx.completeNow();
        })));
  }
}
