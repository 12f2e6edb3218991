package io.fetchbus.bridge;

import io.fetchbus.bus.Bus;
import java.util.Set;

/**
 * What each Fetchbus address may be to a bridge client. Every address of {@link Bus} is in exactly one set
 * ({@code ExposureTest} checks it, so a new address needs a decision here). The allow-lists are checked against
 * these sets at start, so no configuration can open an internal address, let a client publish fake events, or
 * make a client a consumer of an address Fetchbus serves (the bridge registers a real consumer for each
 * {@code register}, which would take a share of the requests sent there).
 */
final class Exposure {
  /** Request/reply addresses a client may be allowed to send to (the default inbound list is a subset). */
  static final Set<String> REQUESTS = Set.of(Bus.FETCH, Bus.FETCH_CACHE_STATS, Bus.EXTRACT, Bus.PAGES_GET,
      Bus.PAGES_CONTENT, Bus.PAGES_FIND, Bus.PAGES_CAPTURES, Bus.PAGES_SEARCH, Bus.STORE_PING, Bus.CRAWL_SUBMIT,
      Bus.CRAWL_STATUS, Bus.CRAWL_CANCEL, Bus.SITE_MAP, Bus.CRAWL_LIST, Bus.CRAWL_ERRORS, Bus.WEBHOOK_STATS,
      // Deletion is not in the default inbound list: an operator who wants clients to delete allows it.
      Bus.PAGES_DELETE, Bus.WATCHES_CREATE, Bus.WATCHES_GET, Bus.WATCHES_LIST, Bus.WATCHES_DELETE,
      Bus.WATCHES_CHANGES, Bus.WATCHES_RUN);
  /** Published by Fetchbus: a client may subscribe, never send or publish there. */
  static final Set<String> PUBLISHED = Set.of(Bus.PAGE_STORED, Bus.PAGE_REVALIDATED, Bus.PAGES_DELETED,
      Bus.CRAWL_PROGRESS, Bus.WATCH_CHANGED);
  /**
   * Between Fetchbus's own verticles: storing pages, the frontier and its leases, job internals, webhook POSTs,
   * the fetch nodes' routing. Never reachable through the bridge.
   */
  static final Set<String> INTERNAL = Set.of(Bus.PAGES_SAVE, Bus.PAGES_REVALIDATED, Bus.CRAWL_ENDED,
      Bus.JOBS_CREATE, Bus.JOBS_WEBHOOK, Bus.FRONTIER_CLAIM, Bus.FRONTIER_COMPLETE, Bus.FRONTIER_RETRY,
      Bus.FRONTIER_RENEW, Bus.FRONTIER_RELEASE, Bus.FRONTIER_REAP, Bus.WEBHOOK_DELIVER,
      Bus.WATCHES_INSERT, Bus.WATCHES_CLAIM, Bus.WATCHES_RECORD, Bus.WATCHES_RENEW,
      // A client that could take or hold origin leases would stop the fetch nodes fetching those origins.
      Bus.ORIGIN_LEASES,
      // The fetch nodes' heartbeats and their own addresses (checked as the prefix of those): a client that could
      // publish a heartbeat or consume a node's address would take fetches meant for a fetch node. The same for the
      // members' heartbeats and addresses.
      Bus.FETCH_NODES, Bus.FETCH_NODE_PREFIX, Bus.MEMBERS, Bus.MEMBER_PREFIX);

  private Exposure() {}

  /** Fails start-up when an allow-list reaches further than these rules allow, naming the address. */
  static void check(AllowList inbound, AllowList outbound) {
    for (String address : INTERNAL) {
      if (inbound.permits(address)) {
        throw new IllegalArgumentException("bridge.inbound lets clients send to " + address
            + ", which only Fetchbus's own verticles may use: narrow the entry that matches it");
      }
    }
    for (String address : PUBLISHED) {
      if (inbound.permits(address)) {
        throw new IllegalArgumentException("bridge.inbound lets clients send to " + address
            + ", where only Fetchbus publishes: list it in bridge.outbound to subscribe to it");
      }
    }
    for (String address : REQUESTS) {
      if (outbound.permits(address)) {
        throw new IllegalArgumentException("bridge.outbound lets clients register as consumers of " + address
            + " and take requests meant for Fetchbus: only published addresses may be outbound");
      }
    }
    for (String address : INTERNAL) {
      if (outbound.permits(address)) {
        throw new IllegalArgumentException("bridge.outbound lets clients register as consumers of " + address
            + ", which only Fetchbus's own verticles may use");
      }
    }
  }
}
