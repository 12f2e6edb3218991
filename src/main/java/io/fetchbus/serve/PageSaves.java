package io.fetchbus.serve;

import io.fetchbus.bus.Page;
import io.fetchbus.bus.SingleFlight;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Single flight for storing one fetch: requests that shared an upstream fetch wait for the page the first of
 * them stores, instead of extracting and sending the body to the store again. It also remembers the page record
 * of recent fetches (bounded, like the fetch cache), so that a cache hit, served from memory by the fetch
 * verticle, is answered without reading PostgreSQL. Shared by the API verticles of one Vert.x instance.
 */
public final class PageSaves implements Shareable {
  /** A page, whether this request created it, and whether a conditional fetch confirmed it unchanged. */
  public record Served(Page page, boolean created, boolean revalidated) {
    Served(Page page, boolean created) {
      this(page, created, false);
    }
  }

  /** Page records of recent fetches; a fetch's page never changes, and the fetch cache holds at most as many. */
  static final int MAX_RECORDS = 10_000;

  private final SingleFlight<String, Served> saving = new SingleFlight<>();
  private final Cache<String, Page> records;

  private PageSaves(long ttlSeconds) {
    records = Caffeine.newBuilder().maximumSize(MAX_RECORDS).expireAfterWrite(Duration.ofSeconds(ttlSeconds)).build();
  }

  /** The node's one instance; records are kept {@code ttl} seconds, the fetch cache's TTL. */
  public static PageSaves shared(Vertx vertx, long ttl) {
    return vertx.sharedData().<String, PageSaves>getLocalMap(PageRecords.SHARED)
        .computeIfAbsent("saves", k -> new PageSaves(ttl));
  }

  /** The stored page of a fetch, if this node stored or read it recently. */
  Page known(String fetchId) {
    return fetchId == null ? null : records.getIfPresent(fetchId);
  }

  /** The page of this fetch was deleted. */
  public void forget(String fetchId) {
    if (fetchId != null) {
      records.invalidate(fetchId);
    }
  }

  void remember(Page page) {
    if (page.fetchId() != null) {
      records.put(page.fetchId(), page);
    }
  }

  /** Runs {@code save} unless the same fetch is being saved already, in which case this joins it. */
  Future<Served> once(String fetchId, Context context, Supplier<Future<Served>> save) {
    SingleFlight.Flight<Served> flight = saving.run(fetchId, context,
        () -> save.get().onSuccess(served -> remember(served.page())), s -> { });
    return flight.joined() ? flight.result().map(s -> new Served(s.page(), false, s.revalidated())) : flight.result();
  }
}
