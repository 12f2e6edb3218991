package io.fetchbus.bus;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Which requests a node serves itself (those of the roles it runs, by the roles it published), which may be sent a
 * second time, and that outside a cluster requests go as the event bus sends them. The routing between members is
 * {@code ClusterIT}'s: it needs members in processes of their own, one of them frozen.
 */
@ExtendWith(VertxExtension.class)
class MemberRouterTest {

  @Test
  @DisplayName("a node serves the addresses of the roles it runs, and no other; every request/reply address has a role")
  void servedHere(Vertx vertx) {
    vertx.sharedData().getLocalMap(Bus.NODE_INFO).put(Bus.NODE_ROLES, "fetch,store");
    assertThat(MemberRouter.servedHere(vertx, Bus.FETCH)).isTrue();
    assertThat(MemberRouter.servedHere(vertx, Bus.FRONTIER_CLAIM)).isTrue();
    assertThat(MemberRouter.servedHere(vertx, Bus.STORE_PING)).isTrue();
    assertThat(MemberRouter.servedHere(vertx, Bus.EXTRACT)).isFalse();
    assertThat(MemberRouter.servedHere(vertx, Bus.CRAWL_SUBMIT)).isFalse();
    assertThat(MemberRouter.servedHere(vertx, Bus.PAGE_STORED)).as("a publish address").isFalse();
    assertThat(MemberRouter.servedHere(vertx, "other.app.address")).isFalse();
    for (String address : new String[] {Bus.FETCH, Bus.FETCH_CACHE_STATS, Bus.EXTRACT, Bus.PAGES_SAVE, Bus.PAGES_GET,
        Bus.PAGES_CONTENT, Bus.PAGES_REVALIDATED, Bus.PAGES_FIND, Bus.PAGES_SEARCH, Bus.STORE_PING, Bus.CRAWL_SUBMIT,
        Bus.CRAWL_STATUS, Bus.CRAWL_CANCEL, Bus.CRAWL_LIST, Bus.CRAWL_ERRORS, Bus.CRAWL_ENDED, Bus.WEBHOOK_DELIVER,
        Bus.WEBHOOK_STATS, Bus.JOBS_CREATE, Bus.JOBS_WEBHOOK, Bus.FRONTIER_CLAIM, Bus.FRONTIER_COMPLETE,
        Bus.FRONTIER_RETRY, Bus.FRONTIER_RENEW, Bus.FRONTIER_RELEASE, Bus.FRONTIER_REAP}) {
      assertThat(Bus.roleServing(address)).as(address).isNotNull();
    }
  }

  @Test
  @DisplayName("reads, fetches, extractions and saves of a fetch are sent again after a timeout; a save without a "
      + "fetch id, a job, a claim, a completion and a webhook POST are not")
  void idempotentRequests() {
    assertThat(Bus.idempotent(Bus.FETCH, new JsonObject())).isTrue();
    assertThat(Bus.idempotent(Bus.EXTRACT, new JsonObject())).isTrue();
    assertThat(Bus.idempotent(Bus.PAGES_GET, new JsonObject())).isTrue();
    assertThat(Bus.idempotent(Bus.CRAWL_ENDED, new JsonObject())).isTrue();
    assertThat(Bus.idempotent(Bus.PAGES_SAVE, new JsonObject().put("fetchId", "f00d"))).isTrue();
    assertThat(Bus.idempotent(Bus.PAGES_SAVE, new JsonObject().put("error", "x"))).as("a failed attempt").isFalse();
    for (String address : new String[] {Bus.JOBS_CREATE, Bus.CRAWL_SUBMIT, Bus.FRONTIER_CLAIM, Bus.FRONTIER_COMPLETE,
        Bus.FRONTIER_RETRY, Bus.WEBHOOK_DELIVER}) {
      assertThat(Bus.idempotent(address, new JsonObject())).as(address).isFalse();
    }
  }

  @Test
  @DisplayName("outside a cluster a request goes to the address as the event bus sends it, roles or not")
  void unchangedOutsideACluster(Vertx vertx, VertxTestContext ctx) {
    vertx.sharedData().getLocalMap(Bus.NODE_INFO).put(Bus.NODE_ROLES, "store");
    vertx.eventBus().<JsonObject>consumer(Bus.FETCH, msg -> msg.reply(new JsonObject().put("served", true)))
        .completion()
        .compose(v -> MemberRouter.<JsonObject>request(vertx, Bus.FETCH, new JsonObject(),
            new DeliveryOptions().setSendTimeout(5_000)))
        .onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
          assertThat(reply.body().getBoolean("served")).isTrue();
          ctx.completeNow();
        })));
  }
}
