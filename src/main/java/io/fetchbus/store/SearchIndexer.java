package io.fetchbus.store;

import io.fetchbus.ops.Meters;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes stored pages searchable shortly after they are stored, off every reply path: as Elasticsearch's refresh,
 * every {@code search.refreshMs} it indexes what was stored since, in batches of {@code search.batchSize} pages
 * (one statement each), until a batch comes back short. Pages are stored with {@code search} NULL and found once
 * this has run; the lag is measured every second ({@code fetchbus_search_lag_*}) and answered with every
 * search. One pass at a time per store verticle; indexers of several store nodes skip each other's rows.
 */
final class SearchIndexer {
  private static final Logger LOG = LoggerFactory.getLogger(SearchIndexer.class);
  /** The lag gauges are refreshed at least this often, and at most once a refresh. */
  private static final long LAG_EVERY_MS = 1_000;

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

  /** How far behind the index is: {@code {"pages": n, "seconds": s}}, pages counted up to {@code MAX_COUNTED}. */
  Future<JsonObject> lag() {
    return pool.query(Sql.SEARCH_LAG).execute().map(rows -> {
      Row r = rows.iterator().next();
      return new JsonObject().put("pages", r.getLong("pages")).put("seconds", r.getDouble("seconds"));
    });
  }

  private void pass() {
    if (indexing || !ready.getAsBoolean()) {
      return;
    }
    indexing = true;
    batches()
        .onFailure(err -> LOG.debug("search indexing pass failed, retried in {} ms: {}", settings.refreshMs(), err.toString()))
        .onComplete(ar -> indexing = false);
  }

  private void measure() {
    if (measuring || !ready.getAsBoolean()) {
      return;
    }
    measuring = true;
    lag()
        .onSuccess(lag -> meters.searchLag(lag.getLong("pages"), lag.getDouble("seconds")))
        .onFailure(err -> LOG.debug("search lag not measured: {}", err.toString()))
        .onComplete(ar -> measuring = false);
  }

  private Future<Void> batches() {
    return pool.preparedQuery(Sql.INDEX_BATCH).execute(Tuple.of(settings.batchSize())).compose(rows -> {
      meters.pagesIndexed(rows.rowCount());
      return rows.rowCount() < settings.batchSize() ? Future.succeededFuture() : batches();
    });
  }
}
