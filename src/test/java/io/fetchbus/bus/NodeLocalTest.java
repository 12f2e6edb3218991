package io.fetchbus.bus;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Which requests a node serves itself: those of the roles it runs, by the roles it published. */
class NodeLocalTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close();
  }

  @Test
  @DisplayName("a node serves the addresses of the roles it runs, and no other; every request/reply address has a role")
  void servedHere() {
    vertx.sharedData().getLocalMap(Bus.NODE_INFO).put(Bus.NODE_ROLES, "fetch,store");
    assertThat(NodeLocal.servedHere(vertx, Bus.FETCH)).isTrue();
    assertThat(NodeLocal.servedHere(vertx, Bus.FRONTIER_CLAIM)).isTrue();
    assertThat(NodeLocal.servedHere(vertx, Bus.STORE_PING)).isTrue();
    assertThat(NodeLocal.servedHere(vertx, Bus.EXTRACT)).isFalse();
    assertThat(NodeLocal.servedHere(vertx, Bus.CRAWL_SUBMIT)).isFalse();
    assertThat(NodeLocal.servedHere(vertx, Bus.PAGE_STORED)).as("a publish address").isFalse();
    assertThat(NodeLocal.servedHere(vertx, "other.app.address")).isFalse();
    for (String address : new String[] {Bus.FETCH, Bus.FETCH_CACHE_STATS, Bus.EXTRACT, Bus.PAGES_SAVE, Bus.PAGES_GET,
        Bus.PAGES_CONTENT, Bus.PAGES_REVALIDATED, Bus.PAGES_FIND, Bus.PAGES_SEARCH, Bus.STORE_PING, Bus.CRAWL_SUBMIT,
        Bus.CRAWL_STATUS, Bus.CRAWL_CANCEL, Bus.CRAWL_LIST, Bus.CRAWL_ERRORS, Bus.CRAWL_ENDED, Bus.WEBHOOK_DELIVER,
        Bus.JOBS_CREATE, Bus.JOBS_WEBHOOK, Bus.FRONTIER_CLAIM, Bus.FRONTIER_COMPLETE, Bus.FRONTIER_RETRY,
        Bus.FRONTIER_RENEW, Bus.FRONTIER_RELEASE, Bus.FRONTIER_REAP}) {
      assertThat(NodeLocal.roleServing(address)).as(address).isNotNull();
    }
  }

  @Test
  @DisplayName("a node that is not clustered, or that did not publish its roles, sends as usual")
  void unchangedOutsideACluster() {
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(1234);
    vertx.sharedData().getLocalMap(Bus.NODE_INFO).put(Bus.NODE_ROLES, "fetch");
    assertThat(NodeLocal.options(vertx, Bus.FETCH, options)).isSameAs(options);
    assertThat(options.isLocalOnly()).isFalse();
    vertx.sharedData().getLocalMap(Bus.NODE_INFO).remove(Bus.NODE_ROLES);
    assertThat(NodeLocal.servedHere(vertx, Bus.FETCH)).isFalse();
  }
}
