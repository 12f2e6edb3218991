package io.fetchbus.bus;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.shareddata.Shareable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * At most one piece of work per key at a time, across the verticle instances (event loops) of one Vert.x
 * instance: a caller that finds the key's work running joins it instead of starting another. Entries live
 * only while their work runs. Not a message: it sits here because the fetch cache and the API both use it.
 */
public final class SingleFlight<K, V> implements Shareable {
  private final ConcurrentHashMap<K, CompletableFuture<V>> running = new ConcurrentHashMap<>();

  public boolean isRunning(K key) {
    return running.containsKey(key);
  }

  public int size() {
    return running.size();
  }

  /** The outcome of {@link #run}, and whether this caller joined work already running. */
  public record Flight<V>(Future<V> result, boolean joined) {}

  /**
   * Runs {@code work} for {@code key}, or joins the run in progress. {@code beforeRelease} sees a successful
   * result before anyone does (to cache it, say). The result completes on {@code context}, whichever event
   * loop did the work.
   */
  public Flight<V> run(K key, Context context, Supplier<Future<V>> work, Consumer<V> beforeRelease) {
    CompletableFuture<V> mine = new CompletableFuture<>();
    CompletableFuture<V> other = running.putIfAbsent(key, mine);
    if (other != null) {
      return new Flight<>(Future.fromCompletionStage(other, context), true);
    }
    Future<V> done;
    try {
      done = work.get();
    } catch (RuntimeException e) {
      done = Future.failedFuture(e);
    }
    done.onComplete(ar -> {
      if (ar.succeeded()) {
        beforeRelease.accept(ar.result());
      }
      running.remove(key, mine);
      if (ar.succeeded()) {
        mine.complete(ar.result());
      } else {
        mine.completeExceptionally(ar.cause());
      }
    });
    return new Flight<>(Future.fromCompletionStage(mine, context), false);
  }
}
