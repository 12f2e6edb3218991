package io.fetchbus.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Rendezvous;
import io.fetchbus.config.ConfigLoader;
import io.fetchbus.support.TestVertx;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Ownership of origins by bucket over the fetch nodes a node hears: one owner per origin among them, the same
 * function the origin leases use ({@link Rendezvous#ownerOfOrigin}); a node that leaves hands its origins back. Who may
 * fetch in cluster mode (the leases) is {@code OriginLeasesTest}'s and {@code ClusterIT}'s.
 */
@ExtendWith(VertxExtension.class)
class FetchOwnersTest {
  private static final String SELF = "node-a";
  private static final String OTHER = "node-z";
  private final Vertx vertx = TestVertx.create();

  @AfterEach
  void close(VertxTestContext ctx) {
    vertx.close().onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a node that hears another fetch node owns the origins whose bucket it wins among the two and forwards "
      + "the others there; once the other says it leaves, this node owns them all again")
  void ownersByBucket(VertxTestContext ctx) {
    vertx.sharedData().getLocalMap(Bus.NODE_INFO).put(Bus.NODE_ID, SELF);
    FetchOwners owners = FetchOwners.shared(vertx, ConfigLoader.loadNow(new JsonObject(), Map.of()), new HostLimiter(vertx, 10, 10, 10));
    List<String> both = List.of(SELF, OTHER);
    String mine = origin(n -> Rendezvous.ownerOfOrigin(n, both).equals(SELF));
    String theirs = origin(n -> Rendezvous.ownerOfOrigin(n, both).equals(OTHER));
    owners.start(vertx.getOrCreateContext())
        .compose(v -> {
          vertx.eventBus().publish(Bus.FETCH_NODES, new JsonObject().put("node", OTHER));
          return until(() -> OTHER.equals(owners.ownerOf(theirs)));
        })
        .compose(v -> {
          ctx.verify(() -> {
            assertThat(owners.ownerOf(mine)).isEqualTo(SELF);
            assertThat(owners.nodes()).containsExactlyInAnyOrder(SELF, OTHER);
          });
          vertx.eventBus().publish(Bus.FETCH_NODES, new JsonObject().put("node", OTHER).put("leaving", true));
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
