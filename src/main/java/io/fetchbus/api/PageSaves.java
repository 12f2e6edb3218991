package io.fetchbus.api;

import io.fetchbus.bus.Page;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
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

  private final ConcurrentHashMap<String, CompletableFuture<Served>> saving = new ConcurrentHashMap<>();

  static PageSaves shared(Vertx vertx) {
    return vertx.sharedData().<String, PageSaves>getLocalMap("fetchbus.api")
        .computeIfAbsent("saves", k -> new PageSaves());
  }

  /** Runs {@code save} unless the same fetch is being saved already, in which case this joins it. */
  Future<Served> once(String fetchId, Context context, Supplier<Future<Served>> save) {
    CompletableFuture<Served> mine = new CompletableFuture<>();
    CompletableFuture<Served> running = saving.putIfAbsent(fetchId, mine);
    if (running != null) {
      return Future.fromCompletionStage(running, context).map(s -> new Served(s.page(), false));
    }
    Future<Served> saved;
    try {
      saved = save.get();
    } catch (RuntimeException e) {
      saved = Future.failedFuture(e);
    }
    saved.onComplete(ar -> {
      saving.remove(fetchId, mine);
      if (ar.succeeded()) {
        mine.complete(ar.result());
      } else {
        mine.completeExceptionally(ar.cause());
      }
    });
    return Future.fromCompletionStage(mine, context);
  }
}
