package io.fetchbus.store;

import io.fetchbus.bus.Bus;
import io.fetchbus.ops.Meters;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes pages: by id, a job's, and those past retention ({@link RetentionSettings}), in batches of {@link #BATCH},
 * one transaction each. A body goes with its last page, the search index with the row (its vector is a column of
 * it), and {@link Bus#PAGES_DELETED} tells every node's caches. Retention runs every {@code retention.everyMs} on each
 * store verticle; verticles of several nodes skip each other's rows.
 */
final class PageDeletion {
  private static final Logger LOG = LoggerFactory.getLogger(PageDeletion.class);
  static final int BATCH = 500;
  /** How often a job's deletion looks whether its fetches in flight have ended. */
  private static final long SETTLE_POLL_MS = 250;
  /**
   * SQLSTATEs worth a second try: foreign_key_violation (a page saved with a body this batch found unused, see
   * Sql.DELETE_ORPHAN_BODIES) and deadlock_detected (two deletions of pages sharing bodies).
   */
  private static final Set<String> TRY_AGAIN = Set.of("23503", "40P01");

  private final Vertx vertx;
  private final Pool pool;
  private final Meters meters;
  private final RetentionSettings retention;
  private final BooleanSupplier ready;
  private long timer = -1;
  private boolean expiring;

  PageDeletion(Vertx vertx, Pool pool, Meters meters, RetentionSettings retention, BooleanSupplier ready) {
    this.vertx = vertx;
    this.pool = pool;
    this.meters = meters;
    this.retention = retention;
    this.ready = ready;
  }

  void start() {
    if (retention.on()) {
      timer = vertx.setPeriodic(retention.everyMs(), t -> expire());
    }
  }

  void stop() {
    vertx.cancelTimer(timer);
  }

  /** Deletes the pages {@code ids} (at most {@link #BATCH}): how many there were. */
  Future<Integer> delete(Long[] ids, String reason) {
    return once(tx -> deleteIn(tx, ids), reason);
  }

  /**
   * Deletes every page of the job, a batch at a time, and again as long as the job has entries leased (for up to
   * {@code settleMs}): a fetch in flight when the job was cancelled may still store its page under its lease.
   */
  Future<Integer> deleteJob(String jobId, long settleMs) {
    long deadline = System.currentTimeMillis() + settleMs;
    return deletePagesOf(jobId).compose(n -> settled(jobId, deadline).map(more -> n + more));
  }

  private Future<Integer> settled(String jobId, long deadline) {
    return pool.preparedQuery(Sql.JOB_LEASED).execute(Tuple.of(jobId)).compose(rows -> {
      boolean leased = rows.size() > 0 && rows.iterator().next().getInteger("leased") > 0;
      if (!leased || System.currentTimeMillis() >= deadline) {
        // A completion may have stored its page and ended its lease since the last pass: one more catches it.
        return deletePagesOf(jobId);
      }
      return vertx.timer(SETTLE_POLL_MS).compose(t -> deletePagesOf(jobId))
          .compose(n -> settled(jobId, deadline).map(more -> n + more));
    });
  }

  private Future<Integer> deletePagesOf(String jobId) {
    return pool.preparedQuery(Sql.JOB_PAGE_IDS).execute(Tuple.of(jobId, BATCH))
        .compose(rows -> {
          Long[] ids = ids(rows);
          return ids.length == 0 ? Future.succeededFuture(0) : delete(ids, "job")
              .compose(n -> ids.length < BATCH ? Future.succeededFuture(n) : deletePagesOf(jobId).map(more -> n + more));
        });
  }

  /** One retention pass: batches of expired pages, then of expired failures, until a batch comes back short. */
  private void expire() {
    if (expiring || !ready.getAsBoolean()) {
      return;
    }
    expiring = true;
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    Future<Integer> pages = retention.pagesDays() == 0 ? Future.succeededFuture(0)
        : expired(Sql.EXPIRED_PAGE_IDS, now.minusDays(retention.pagesDays()));
    pages.compose(n -> retention.failedDays() == 0 ? Future.succeededFuture(n)
            : expired(Sql.EXPIRED_FAILURE_IDS, now.minusDays(retention.failedDays())).map(m -> n + m))
        .onSuccess(n -> {
          if (n > 0) {
            LOG.info("retention deleted {} pages", n);
          }
        })
        .onFailure(err -> LOG.warn("retention pass failed, tried again in {} ms: {}", retention.everyMs(), err.getMessage()))
        .onComplete(ar -> expiring = false);
  }

  private Future<Integer> expired(String sql, OffsetDateTime before) {
    return once(tx -> tx.preparedQuery(sql).execute(Tuple.of(before, BATCH))
            .compose(rows -> deleteIn(tx, ids(rows))), "retention")
        .compose(n -> n < BATCH ? Future.succeededFuture(n) : expired(sql, before).map(more -> n + more));
  }

  /**
   * Runs a deletion in a transaction of its own, once more should a page have been saved meanwhile with a body it
   * found unused; then tells the caches what went.
   */
  private Future<Integer> once(java.util.function.Function<SqlConnection, Future<List<JsonObject>>> work, String reason) {
    return pool.withTransaction(work)
        .recover(err -> err instanceof PgException pg && TRY_AGAIN.contains(pg.getSqlState())
            ? pool.withTransaction(work) : Future.failedFuture(err))
        .map(gone -> {
          if (!gone.isEmpty()) {
            vertx.eventBus().publish(Bus.PAGES_DELETED, new JsonObject().put("pages", new JsonArray(gone)));
            meters.pagesDeleted(reason, gone.size());
          }
          return gone.size();
        });
  }

  /** Deletes the pages, then the bodies none uses any more: {@code [{"id","url","fetchId"}]} of what went. */
  private static Future<List<JsonObject>> deleteIn(SqlConnection tx, Long[] ids) {
    if (ids.length == 0) {
      return Future.succeededFuture(List.of());
    }
    return tx.preparedQuery(Sql.DELETE_PAGES).execute(Tuple.of(ids)).compose(rows -> {
      List<JsonObject> gone = new ArrayList<>(rows.size());
      Set<String> bodies = new LinkedHashSet<>();
      for (Row r : rows) {
        gone.add(new JsonObject().put("id", r.getLong("id")).put("url", r.getString("url"))
            .put("fetchId", r.getString("fetch_id")));
        if (r.getString("content_sha256") != null) {
          bodies.add(r.getString("content_sha256"));
        }
      }
      return bodies.isEmpty() ? Future.succeededFuture(gone)
          : tx.preparedQuery(Sql.DELETE_ORPHAN_BODIES).execute(Tuple.of(bodies.toArray(String[]::new))).map(gone);
    });
  }

  private static Long[] ids(Iterable<Row> rows) {
    List<Long> ids = new ArrayList<>();
    rows.forEach(r -> ids.add(r.getLong("id")));
    return ids.toArray(Long[]::new);
  }
}
