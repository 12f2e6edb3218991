package io.fetchbus.store;

import io.fetchbus.ops.Meters;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Group commit for page saves: a save that arrives while {@code maxInFlight} writes are running waits, and goes
 * with every save that arrived meanwhile as one batch: one round trip and one transaction, so one WAL flush for
 * all of them ({@code executeBatch}: the statement bound once per save before a single Sync). An idle store
 * writes a save at once; the busier it is, the larger its batches. Each save keeps its own answer (its RETURNING
 * row, or none when its fetch id was saved before). If a batch fails, its saves are written again one by one, so
 * one bad save fails alone. Saves wait in a bounded queue; past it they fail at once (503), as the pool's own
 * wait queue does. Used from the store verticle's event loop only.
 */
final class PageWriter {
  /** One save waiting to be written: the parameters of {@link Sql#INSERT_PAGE} and who waits for its rows. */
  private record Pending(Tuple params, Promise<RowSet<Row>> done) {}

  private static final Comparator<Pending> LOCK_ORDER = Comparator.comparing(Pending::params, PageRows.LOCK_ORDER);

  private final Pool pool;
  private final Meters meters;
  private final int maxBatch;
  private final int maxInFlight;
  private final int maxQueued;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private int inFlight;

  PageWriter(Pool pool, Meters meters, int maxBatch, int maxInFlight, int maxQueued) {
    this.pool = pool;
    this.meters = meters;
    this.maxBatch = maxBatch;
    this.maxInFlight = maxInFlight;
    this.maxQueued = maxQueued;
  }

  /** Inserts one page ({@link Sql#INSERT_PAGE}); its rows are its RETURNING row, or none if it was saved before. */
  Future<RowSet<Row>> insert(Tuple params) {
    if (queue.size() >= maxQueued) {
      return Future.failedFuture(StoreErrors.unavailable());
    }
    Promise<RowSet<Row>> done = Promise.promise();
    queue.add(new Pending(params, done));
    drain();
    return done.future();
  }

  private void drain() {
    while (inFlight < maxInFlight && !queue.isEmpty()) {
      List<Pending> batch = new ArrayList<>(Math.min(queue.size(), maxBatch));
      while (batch.size() < maxBatch && !queue.isEmpty()) {
        batch.add(queue.poll());
      }
      inFlight++;
      write(batch).onComplete(ar -> {
        inFlight--;
        drain();
      });
    }
  }

  /**
   * Writes one batch. Sorted by body hash, so that two batches that store the same bodies lock them in the same
   * order instead of deadlocking.
   */
  private Future<Void> write(List<Pending> batch) {
    if (batch.size() == 1) {
      return one(batch.get(0));
    }
    batch.sort(LOCK_ORDER);
    return pool.preparedQuery(Sql.INSERT_PAGE).executeBatch(batch.stream().map(Pending::params).toList())
        .<Void>map(first -> {
          meters.groupCommit(batch.size());
          RowSet<Row> rows = first;
          for (Pending p : batch) {
            p.done().complete(rows);
            rows = rows.next();
          }
          return null;
        })
        .recover(err -> {
          if (!oneSaveAtFault(err)) {
            batch.forEach(p -> p.done().fail(err)); // PostgreSQL is gone or failing: no save would do better alone
            return Future.succeededFuture();
          }
          // A save the database refused rolled the batch back: each again on its own, one after the other (within
          // this write's place among the writes in flight), so that only the one at fault fails.
          Future<Void> chain = Future.succeededFuture();
          for (Pending p : batch) {
            chain = chain.compose(v -> one(p));
          }
          return chain;
        });
  }

  /** A refusal of one save's data (SQLSTATE class 22 or 23) or a deadlock, rather than a failure of the store. */
  private static boolean oneSaveAtFault(Throwable err) {
    String state = err instanceof PgException pg && pg.getSqlState() != null ? pg.getSqlState() : "";
    return state.startsWith("22") || state.startsWith("23") || state.equals("40P01");
  }

  private Future<Void> one(Pending p) {
    return pool.preparedQuery(Sql.INSERT_PAGE).execute(p.params())
        .onSuccess(p.done()::complete)
        .onFailure(p.done()::fail)
        .<Void>mapEmpty()
        .otherwiseEmpty();
  }
}
