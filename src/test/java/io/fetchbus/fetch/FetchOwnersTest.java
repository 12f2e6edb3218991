package io.fetchbus.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Rendezvous;
import io.fetchbus.support.TestVertx;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Ownership of origins during a split, as the split check of a store node reports it: one owner per origin over
 * the owners that check lists, nothing fetched here for an origin whose owner is outside this half. Two clusters
 * crawling one job are {@code ClusterIT}'s.
 */
@ExtendWith(VertxExtension.class)
class FetchOwnersTest {
  private static final String SELF = "node-a";
  private static final String OUTSIDE = "node-z";
  private final Vertx vertx = TestVertx.create();

  @AfterEach
  void close(VertxTestContext ctx) {
    vertx.close().onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("while a split is reported, each origin is owned by one of the reported owners: this node's are "
      + "fetched here, the other half's are not (null); once no split is reported, this node alone owns them all")
  void ownersDuringASplit(VertxTestContext ctx) {
    vertx.sharedData().getLocalMap(Bus.NODE_INFO).put(Bus.NODE_ID, SELF);
    JsonObject config = new JsonObject().put("cluster", new JsonObject().put("splitCheckMs", 60_000));
    FetchOwners owners = FetchOwners.shared(vertx, config, new HostLimiter(vertx, 10, 10, 10));
    List<String> split = List.of(SELF, OUTSIDE);
    String mine = origin(n -> Rendezvous.owner(n, split).equals(SELF));
    String theirs = origin(n -> Rendezvous.owner(n, split).equals(OUTSIDE));
    owners.start()
        .compose(v -> {
          vertx.eventBus().publish(Bus.CLUSTER_SPLIT, new JsonObject().put("node", "store-1")
              .put("outside", new JsonArray().add(OUTSIDE)).put("owners", new JsonArray(split)));
          return until(() -> owners.ownerOf(theirs) == null);
        })
        .compose(v -> {
          ctx.verify(() -> assertThat(owners.ownerOf(mine)).isEqualTo(SELF));
          vertx.eventBus().publish(Bus.CLUSTER_SPLIT, new JsonObject().put("node", "store-1")
              .put("outside", new JsonArray()).put("owners", new JsonArray()));
          return until(() -> SELF.equals(owners.ownerOf(theirs)));
        })
        .compose(v -> owners.stop())
        .onComplete(ctx.succeedingThenComplete());
  }

  /** An origin whose owner {@code test} accepts. */
  private static String origin(java.util.function.Predicate<String> test) {
    for (int i = 0; ; i++) {
      String origin = "http://site-" + i + ".example:80";
      if (test.test(origin)) {
        return origin;
      }
    }
  }

  private io.vertx.core.Future<Void> until(Supplier<Boolean> check) {
    return check.get() ? io.vertx.core.Future.succeededFuture()
        : vertx.timer(20).compose(t -> until(check));
  }
}
