package io.fetchbus.crawl;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The hosts of jobs ({@link Lease#hostKey}) whose entries this node just gave back uncounted because it refused them
 * itself (429 or 503: its fetch engine busy, no lease for the origin, extraction saturated), each with until when
 * the node's claims skip it: until the entry is due and two polls have passed. In a split, the half without an
 * origin's lease would otherwise take its entries back each time they came due, for good when its poll timer ran
 * just ahead of the other half's (a requeue is due after exactly four default polls), and the half that holds the
 * lease would never get them. Shared by the node's crawl verticles ({@code crawl.instances}), so that none of them
 * takes such an entry back either.
 */
final class RefusedHosts implements Shareable {
  private final ConcurrentHashMap<String, Long> skippedUntil = new ConcurrentHashMap<>();

  private RefusedHosts() {}

  /** The node's one instance. */
  static RefusedHosts of(Vertx vertx) {
    return vertx.sharedData().<String, RefusedHosts>getLocalMap("fetchbus.crawl")
        .computeIfAbsent("refusedHosts", k -> new RefusedHosts());
  }

  /** Claims skip {@code hostKey} for {@code forMs} from now, or longer if it is skipped longer already. */
  void skip(String hostKey, long forMs) {
    // nanoTime, not the wall clock: a clock stepped back must not hold a host back for as long as the step.
    skippedUntil.merge(hostKey, System.nanoTime() + forMs * 1_000_000, (a, b) -> a - b >= 0 ? a : b);
  }

  /** The host keys claims skip now; those whose time is up are forgotten. */
  Set<String> skipped() {
    long now = System.nanoTime();
    skippedUntil.values().removeIf(until -> until - now <= 0);
    return Set.copyOf(skippedUntil.keySet());
  }
}
