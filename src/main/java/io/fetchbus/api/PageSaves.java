package io.fetchbus.api;

import io.fetchbus.bus.Page;
import io.fetchbus.bus.SingleFlight;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import java.util.function.Supplier;

/**
 * Single flight for storing one fetch: requests that shared an upstream fetch wait for the page the first of
 * them stores, instead of extracting and sending the body to the store again. Shared by the API verticles of
 * one Vert.x instance; an entry lives only while its page is being stored.
 */
final class PageSaves implements Shareable {
  /** A page, whether this request created it, and whether a conditional fetch confirmed it unchanged. */
  record Served(Page page, boolean created, boolean revalidated) {
    Served(Page page, boolean created) {
      this(page, created, false);
    }
  }

  private final SingleFlight<String, Served> saving = new SingleFlight<>();

  static PageSaves shared(Vertx vertx) {
    return vertx.sharedData().<String, PageSaves>getLocalMap("fetchbus.api")
        .computeIfAbsent("saves", k -> new PageSaves());
  }

  /** Runs {@code save} unless the same fetch is being saved already, in which case this joins it. */
  Future<Served> once(String fetchId, Context context, Supplier<Future<Served>> save) {
    SingleFlight.Flight<Served> flight = saving.run(fetchId, context, save, s -> { });
    return flight.joined() ? flight.result().map(s -> new Served(s.page(), false, s.revalidated())) : flight.result();
  }
}
