package io.fetchbus.store;

import io.fetchbus.bus.Backoff;
import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Extraction;
import io.fetchbus.bus.Failure;
import io.fetchbus.config.Settings;
import io.fetchbus.ops.Meters;
import io.fetchbus.search.SearchQuery;
import io.fetchbus.search.SearchSettings;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the Postgres pool and routes the store's addresses to the classes that serve them: {@link Pages},
 * {@link Jobs}, {@link Frontier}, {@link Watches}, {@link OriginLeaseRounds}. It starts even when Postgres is
 * down: the schema migration retries in the background and requests answer 503 until it has run, so the
 * service comes up in any order and recovers by itself.
 */
public final class StoreVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(StoreVerticle.class);
  /** The schema check's retries while PostgreSQL is unreachable: {@link Backoff} from this, up to the cap. */
  private static final long FIRST_RETRY_DELAY_MS = 250;
  private static final long MAX_RETRY_DELAY_MS = 10_000;
  /** The most saves one group commit writes. */
  private static final int WRITE_BATCH = 64;
  /** The body bytes of one batch of crawl completions, at most (the first completion of a batch always goes). */
  private static final long COMPLETION_BATCH_BYTES = 8L << 20;

  private Pool pool;
  private PgConnectOptions connect;
  private boolean ready;
  private int failedMigrations;
  private long retryTimer = -1;
  private long gaugeTimer = -1;
  private SearchIndexer indexer;
  private PageWriter writer;
  private StoreOutage outage;
  private PageDeletion deletion;
  private SplitWatch splitWatch;
  private long splitTimer = -1;
  private StoreProbe probe;

  @Override
  public Future<?> start() {
    StoreSettings settings = StoreSettings.from(config());
    connect = StoreConnections.options(vertx, settings);
    pool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(settings.poolSize()).setMaxWaitQueueSize(settings.maxWaitQueue())
            .setConnectionTimeout(settings.acquireTimeoutMs()).setConnectionTimeoutUnit(TimeUnit.MILLISECONDS))
        .with(new NetClientOptions().setConnectTimeout(settings.connectTimeoutMs()))
        .connectingTo(connect)
        .using(vertx)
        .build();
    var bus = vertx.eventBus();
    long splitCheckMs = Settings.number(config(), "cluster", "splitCheckMs").longValue();
    if (vertx.isClustered() && splitCheckMs > 0 && (splitWatch = SplitWatch.claim(vertx)) != null) {
      splitTimer = vertx.setPeriodic(splitCheckMs, t -> {
        if (ready) {
          splitWatch.check(pool);
        }
      });
    }
    String where = connect.getHost() + ":" + connect.getPort() + "/" + connect.getDatabase();
    outage = vertx.sharedData().<String, StoreOutage>getLocalMap("fetchbus.store")
        .computeIfAbsent("outage", k -> new StoreOutage(where));
    // Asks PostgreSQL every second over a connection of its own: an outage, a frozen server included, is logged as
    // it starts and as it ends whatever the traffic.
    probe = new StoreProbe(vertx, connect, settings.connectTimeoutMs(), outage, settings.requestTimeoutMs(), () -> ready);
    probe.start();
    // Half the pool writes pages (group commit), the rest stays free for reads and the crawl.
    writer = new PageWriter(pool, Meters.of(vertx), WRITE_BATCH, Math.max(1, settings.poolSize() / 2), settings.maxWaitQueue());
    Jobs jobs = new Jobs(pool, vertx);
    Watches watches = new Watches(pool);
    SearchSettings search = SearchSettings.from(config());
    // Crawl completions of one job wait for each other (its lock): batched, a quarter of the pool is plenty for them.
    CrawlCompletions completions = new CrawlCompletions(pool, bus, Meters.of(vertx), search.enabled(), WRITE_BATCH,
        COMPLETION_BATCH_BYTES, Math.max(1, settings.poolSize() / 4), settings.maxWaitQueue());
    Frontier frontier = new Frontier(pool, completions, settings.requestTimeoutMs());
    if (search.enabled()) {
      indexer = new SearchIndexer(vertx, pool, search, Meters.of(vertx), () -> ready);
      indexer.start();
    }
    deletion = new PageDeletion(vertx, pool, Meters.of(vertx), RetentionSettings.from(config()), () -> ready);
    deletion.start();
    Pages pages = new Pages(vertx, pool, writer, Extraction.shared(vertx, config()), indexer, deletion,
        Settings.number(config(), "crawl", "leaseMs").longValue());
    gaugeTimer = vertx.setPeriodic(Settings.number(config(), "crawl", "gaugesEveryMs").longValue(), t -> {
      if (ready) {
        jobs.refreshGauges(Meters.of(vertx)).onFailure(err -> LOG.debug("crawl gauges not refreshed: {}", err.getMessage()));
      }
    });
    // With Postgres up, deployment completes once the schema is ready; with it down, the service starts anyway.
    return Future.all(List.of(migrate().otherwiseEmpty(),
        // Lucene's analysis classes load in a few hundred ms: here, on a worker, not in the first search.
        vertx.executeBlocking(() -> SearchQuery.of("warm up")),
        bus.<JsonObject>consumer(Bus.PAGES_SAVE, msg -> serve(msg, pages::save)).completion(),
        bus.<JsonObject>consumer(Bus.PAGES_GET, msg -> serve(msg, pages::get)).completion(),
        bus.<JsonObject>consumer(Bus.PAGES_CONTENT, msg -> serve(msg, pages::content)).completion(),
        bus.<JsonObject>consumer(Bus.PAGES_FIND, msg -> serve(msg, pages::find)).completion(),
        bus.<JsonObject>consumer(Bus.PAGES_SEARCH, msg -> serve(msg, pages::search)).completion(),
        bus.<JsonObject>consumer(Bus.PAGES_REVALIDATED, msg -> serve(msg, pages::revalidated)).completion(),
        consume(Bus.PAGES_DELETE, pages::delete),
        consume(Bus.PAGES_CAPTURES, new PageCaptures(pool)::captures),
        consume(Bus.JOBS_CREATE, jobs::create),
        consume(Bus.JOBS_WEBHOOK, jobs::webhook),
        consume(Bus.CRAWL_STATUS, jobs::status),
        consume(Bus.CRAWL_LIST, jobs::list),
        consume(Bus.CRAWL_CANCEL, jobs::cancel),
        consume(Bus.CRAWL_ERRORS, jobs::errors),
        consume(Bus.FRONTIER_CLAIM, frontier::claim),
        consume(Bus.FRONTIER_COMPLETE, frontier::complete),
        consume(Bus.FRONTIER_RETRY, frontier::retry),
        consume(Bus.FRONTIER_RENEW, frontier::renew),
        consume(Bus.FRONTIER_RELEASE, frontier::release),
        consume(Bus.FRONTIER_REAP, frontier::reap),
        consume(Bus.WATCHES_INSERT, watches::insert),
        consume(Bus.WATCHES_GET, watches::get),
        consume(Bus.WATCHES_LIST, watches::list),
        consume(Bus.WATCHES_DELETE, watches::delete),
        consume(Bus.WATCHES_CHANGES, watches::changes),
        consume(Bus.WATCHES_CLAIM, watches::claim),
        consume(Bus.WATCHES_RECORD, watches::record),
        consume(Bus.WATCHES_RENEW, watches::renew),
        consume(Bus.ORIGIN_LEASES, new OriginLeaseRounds(pool)::round),
        bus.<JsonObject>consumer(Bus.STORE_PING, msg -> serve(msg,
            req -> pool.query("SELECT 1").execute().map(rows -> new JsonObject()))).completion()));
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(retryTimer);
    vertx.cancelTimer(gaugeTimer);
    vertx.cancelTimer(splitTimer);
    if (splitWatch != null) {
      splitWatch.stop();
    }
    probe.stop();
    if (deletion != null) {
      deletion.stop();
    }
    if (indexer != null) {
      indexer.stop();
    }
    return pool.close();
  }

  private Future<Void> consume(String address, Function<JsonObject, Future<JsonObject>> operation) {
    return vertx.eventBus().<JsonObject>consumer(address, msg -> serve(msg, operation)).completion();
  }

  /**
   * Checks the schema's version over the pool and runs Flyway only when something is missing: Flyway speaks JDBC,
   * which blocks, so it runs on a worker thread. Retries with backoff until it succeeds.
   */
  private Future<Integer> migrate() {
    // Best effort: whether another node shares the database only decides a warning.
    return (vertx.isClustered() ? Future.succeededFuture() : LoneNode.check(vertx, pool).otherwiseEmpty())
        .compose(v -> Migrations.current(pool))
        .compose(current -> current ? Future.succeededFuture(0) : vertx.executeBlocking(() -> Migrations.migrate(connect)))
        .onSuccess(applied -> {
          ready = true;
          LOG.info("store ready on {}:{}/{} (schema version {}, {} migrations applied)", connect.getHost(),
              connect.getPort(), connect.getDatabase(), Migrations.LATEST, applied);
        })
        .onFailure(err -> {
          long retryDelayMs = Backoff.delayMs(failedMigrations++, FIRST_RETRY_DELAY_MS, MAX_RETRY_DELAY_MS);
          LOG.warn("store not ready, PostgreSQL at {}:{} unreachable or failing ({}); retrying in {} ms",
              connect.getHost(), connect.getPort(), rootMessage(err), retryDelayMs);
          retryTimer = vertx.setTimer(retryDelayMs, t -> migrate());
        });
  }

  private void serve(Message<JsonObject> msg, Function<JsonObject, Future<JsonObject>> operation) {
    if (!ready) {
      msg.fail(Failure.UNAVAILABLE.code,
          "the store is unavailable: PostgreSQL has not been reachable since start (schema not migrated yet); retry later");
      return;
    }
    Future<JsonObject> result;
    try {
      result = operation.apply(msg.body() == null ? new JsonObject() : msg.body());
    } catch (RuntimeException e) {
      // Thrown before any query ran: the request itself is at fault, or this code is.
      result = Future.failedFuture(StoreErrors.invalidRequest(e));
    }
    String requestId = msg.headers().get(Bus.REQUEST_ID);
    long askedAt = System.currentTimeMillis();
    result.onSuccess(reply -> {
      LOG.debug("{} done [request {}]", msg.address(), requestId);
      outage.reached();
      msg.reply(reply);
    }).onFailure(err -> {
      if (StoreErrors.unreachable(err)) {
        outage.unreachable(err, askedAt);
      }
      ReplyException failure = StoreErrors.classify(err);
      if (failure.failureCode() == Failure.INTERNAL.code) {
        LOG.error("store operation on {} failed [request {}]", msg.address(), requestId, err);
      } else {
        LOG.debug("store operation on {} failed: {} [request {}]", msg.address(), err.toString(), requestId);
      }
      msg.fail(failure.failureCode(), failure.getMessage());
    });
  }

  private static String rootMessage(Throwable t) {
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }
}
