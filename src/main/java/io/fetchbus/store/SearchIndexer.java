package io.fetchbus.store;

import io.fetchbus.ops.Meters;
import io.fetchbus.search.SearchSettings;
import io.fetchbus.search.SearchVector;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes searchable the stored pages that went in without their search vector (stored while search was off, by a
 * node that did not make vectors, or by an older version): as Elasticsearch's refresh, every
 * {@code search.refreshMs} it indexes what waits, in batches of {@code search.batchSize} pages (read, analysed on a
 * worker thread with {@link SearchVector}, written back, in one transaction each), until a batch comes back short.
 * Pages extracted as usual are stored with their vector and never wait here. The lag is measured every second
 * ({@code fetchbus_search_lag_*}) and answered with every search. One pass at a time per store verticle; indexers
 * of several store nodes skip each other's rows.
 */
final class SearchIndexer {
  private static final Logger LOG = LoggerFactory.getLogger(SearchIndexer.class);
  /** The lag gauges are refreshed at least this often, and at most once a refresh. */
  private static final long LAG_EVERY_MS = 1_000;
  /** A pass is a bounded chain of batches; a backlog is worked off by passes that follow each other at once. */
  private static final int MAX_BATCHES_PER_PASS = 20;

  private final Vertx vertx;
  private final Pool pool;
  private final SearchSettings settings;
  private final Meters meters;
  private final BooleanSupplier ready;
  private boolean indexing;
  private long timer = -1;
  private long lagTimer = -1;
  private boolean measuring;

  SearchIndexer(Vertx vertx, Pool pool, SearchSettings settings, Meters meters, BooleanSupplier ready) {
    this.vertx = vertx;
    this.pool = pool;
    this.settings = settings;
    this.meters = meters;
    this.ready = ready;
  }

  void start() {
    timer = vertx.setPeriodic(settings.refreshMs(), t -> pass());
    // Measured on a timer of its own: under a sustained load a pass may not end (every batch comes back full).
    lagTimer = vertx.setPeriodic(Math.max(settings.refreshMs(), LAG_EVERY_MS), t -> measure());
  }

  void stop() {
    vertx.cancelTimer(timer);
    vertx.cancelTimer(lagTimer);
  }

  /**
   * How far behind the index is: {@code {"pages": n, "seconds": s}}, pages counted up to {@code maxCounted} (a
   * search answers with at most 10,000, so that each costs a bounded scan; the gauges count up to 100,000).
   */
  Future<JsonObject> lag(int maxCounted) {
    return pool.preparedQuery(Sql.SEARCH_LAG).execute(Tuple.of(maxCounted)).map(rows -> {
      Row r = rows.iterator().next();
      return new JsonObject().put("pages", r.getLong("pages")).put("seconds", r.getDouble("seconds"));
    });
  }

  private void pass() {
    if (indexing || !ready.getAsBoolean()) {
      return;
    }
    indexing = true;
    batches(MAX_BATCHES_PER_PASS)
        .onFailure(err -> LOG.debug("search indexing pass failed, retried in {} ms: {}", settings.refreshMs(), err.toString()))
        .onComplete(ar -> {
          indexing = false;
          if (ar.succeeded() && ar.result()) {
            vertx.runOnContext(v -> pass()); // more waits: the next pass starts now, not at the next refresh
          }
        });
  }

  private void measure() {
    if (measuring || !ready.getAsBoolean()) {
      return;
    }
    measuring = true;
    lag(100_000)
        .onSuccess(lag -> meters.searchLag(lag.getLong("pages"), lag.getDouble("seconds")))
        .onFailure(err -> LOG.debug("search lag not measured: {}", err.toString()))
        .onComplete(ar -> measuring = false);
  }

  /** Up to {@code left} batches, one after the other; true when the last one came back full (more may wait). */
  private Future<Boolean> batches(int left) {
    return pool.withTransaction(conn -> conn.preparedQuery(Sql.UNINDEXED_BATCH).execute(Tuple.of(settings.batchSize()))
        .compose(rows -> {
          List<Long> ids = new ArrayList<>(rows.size());
          List<String> titles = new ArrayList<>(rows.size());
          List<String> texts = new ArrayList<>(rows.size());
          for (Row r : rows) {
            ids.add(r.getLong("id"));
            titles.add(r.getString("title"));
            texts.add(r.getString("text"));
          }
          return ids.isEmpty() ? Future.succeededFuture(0) : vertx.executeBlocking(() -> vectors(titles, texts), false)
              .compose(vectors -> conn.preparedQuery(Sql.SET_SEARCH)
                  .execute(Tuple.tuple().addValue(ids.toArray(new Long[0])).addValue(vectors)))
              .map(ids.size());
        }))
        .compose(indexed -> {
          meters.pagesIndexed(indexed);
          boolean full = indexed >= settings.batchSize();
          return !full || left <= 1 ? Future.succeededFuture(full) : batches(left - 1);
        });
  }

  private static String[] vectors(List<String> titles, List<String> texts) {
    String[] out = new String[titles.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = SearchVector.of(titles.get(i), texts.get(i));
    }
    return out;
  }
}
