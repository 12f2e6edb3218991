package io.fetchbus.bus;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import java.util.Map;

/**
 * Where a request goes in a cluster: to this node's own verticles when the node runs the role that serves the
 * address ({@link DeliveryOptions#setLocalOnly}), to the cluster otherwise.
 * <p>
 * The clustered event bus hands point-to-point messages round-robin to every member that registered the address,
 * and keeps a member's registrations until Hazelcast drops it (60 s for a member that froze, by default). Sent
 * round-robin, half of a node's extractions, stores and fetches would wait for their timeouts on a frozen member,
 * although the node can do that work itself: every request/reply address here is stateless on the serving side
 * (PostgreSQL, not the verticle, holds the state), so any node that has the role serves it as well as any other.
 * The one piece of work that must cross nodes, a fetch for an origin another fetch node owns, is forwarded by the
 * fetch verticle to that owner while its heartbeats say it is alive (see {@code FetchOwners}). A node without a
 * role still sends to the cluster, round-robin.
 */
public final class NodeLocal {
  /** The role whose verticles serve each request/reply address. */
  private static final Map<String, String> ROLE = Map.ofEntries(
      Map.entry(Bus.FETCH, "fetch"), Map.entry(Bus.FETCH_CACHE_STATS, "fetch"), Map.entry(Bus.WEBHOOK_DELIVER, "fetch"),
      Map.entry(Bus.EXTRACT, "extract"),
      Map.entry(Bus.PAGES_SAVE, "store"), Map.entry(Bus.PAGES_GET, "store"), Map.entry(Bus.PAGES_CONTENT, "store"),
      Map.entry(Bus.PAGES_REVALIDATED, "store"), Map.entry(Bus.PAGES_FIND, "store"), Map.entry(Bus.PAGES_SEARCH, "store"),
      Map.entry(Bus.PAGES_DELETE, "store"),
      Map.entry(Bus.STORE_PING, "store"), Map.entry(Bus.JOBS_CREATE, "store"), Map.entry(Bus.JOBS_WEBHOOK, "store"),
      Map.entry(Bus.CRAWL_STATUS, "store"), Map.entry(Bus.CRAWL_LIST, "store"), Map.entry(Bus.CRAWL_CANCEL, "store"),
      Map.entry(Bus.CRAWL_ERRORS, "store"), Map.entry(Bus.FRONTIER_CLAIM, "store"),
      Map.entry(Bus.FRONTIER_COMPLETE, "store"), Map.entry(Bus.FRONTIER_RETRY, "store"),
      Map.entry(Bus.FRONTIER_RENEW, "store"), Map.entry(Bus.FRONTIER_RELEASE, "store"),
      Map.entry(Bus.FRONTIER_REAP, "store"),
      Map.entry(Bus.CRAWL_SUBMIT, "crawl"), Map.entry(Bus.CRAWL_ENDED, "crawl"));

  private NodeLocal() {}

  /** The role that serves {@code address}, or null for an address that is not a Fetchbus request/reply address. */
  public static String roleServing(String address) {
    return ROLE.get(address);
  }

  /** Whether this node runs the role that serves {@code address} ({@link Bus#NODE_ROLES}). */
  public static boolean servedHere(Vertx vertx, String address) {
    String role = ROLE.get(address);
    return role != null && vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_ROLES) instanceof String roles
        && (',' + roles + ',').contains(',' + role + ',');
  }

  /** {@code options}, local-only when this node serves {@code address} itself and is clustered. */
  public static DeliveryOptions options(Vertx vertx, String address, DeliveryOptions options) {
    if (!vertx.isClustered() || options.isLocalOnly() || !servedHere(vertx, address)) {
      return options;
    }
    return new DeliveryOptions(options).setLocalOnly(true);
  }

  /** {@code EventBus.request}, sent to this node's own verticles when it serves {@code address} itself. */
  public static <T> Future<Message<T>> request(Vertx vertx, String address, Object body, DeliveryOptions options) {
    return vertx.eventBus().request(address, body, options(vertx, address, options));
  }
}
