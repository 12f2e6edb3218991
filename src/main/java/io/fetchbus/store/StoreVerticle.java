package io.fetchbus.store;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.ContentFormats;
import io.fetchbus.bus.Extraction;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.Fields;
import io.fetchbus.bus.MediaTypes;
import io.fetchbus.bus.Page;
import io.fetchbus.bus.PageQuery;
import io.fetchbus.bus.SavePage;
import io.fetchbus.bus.SearchRequest;
import io.fetchbus.bus.WebUrl;
import io.fetchbus.config.Settings;
import io.fetchbus.ops.Meters;
import io.fetchbus.search.SearchQuery;
import io.fetchbus.search.SearchSettings;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the Postgres pool and serves the {@code fetchbus.pages.*} addresses. It starts even when Postgres is
 * down: the schema migration retries in the background and requests answer 503 until it has run, so the
 * service comes up in any order and recovers by itself.
 */
public final class StoreVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(StoreVerticle.class);
  private static final long MAX_RETRY_DELAY_MS = 10_000;
  /** The most saves one group commit writes. */
  private static final int WRITE_BATCH = 64;
  private static final java.util.regex.Pattern SHA256 = java.util.regex.Pattern.compile("[0-9a-f]{64}");
  /** The body bytes of one batch of crawl completions, at most (the first completion of a batch always goes). */
  private static final long COMPLETION_BATCH_BYTES = 8L << 20;

  private Pool pool;
  private Extraction extraction;
  private PgConnectOptions connect;
  private boolean ready;
  private long retryDelayMs = 250;
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
    extraction = Extraction.shared(vertx, config());
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
    gaugeTimer = vertx.setPeriodic(Settings.number(config(), "crawl", "gaugesEveryMs").longValue(), t -> {
      if (ready) {
        jobs.refreshGauges(Meters.of(vertx)).onFailure(err -> LOG.debug("crawl gauges not refreshed: {}", err.getMessage()));
      }
    });
    // With Postgres up, deployment completes once the schema is ready; with it down, the service starts anyway.
    return Future.all(List.of(migrate().otherwiseEmpty(),
        // Lucene's analysis classes load in a few hundred ms: here, on a worker, not in the first search.
        vertx.executeBlocking(() -> SearchQuery.of("warm up")),
        bus.<JsonObject>consumer(Bus.PAGES_SAVE, msg -> serve(msg, this::savePage)).completion(),
        bus.<JsonObject>consumer(Bus.PAGES_GET, msg -> serve(msg, this::getPage)).completion(),
        bus.<JsonObject>consumer(Bus.PAGES_CONTENT, msg -> serve(msg, this::getContent)).completion(),
        bus.<JsonObject>consumer(Bus.PAGES_FIND, msg -> serve(msg, this::findPages)).completion(),
        bus.<JsonObject>consumer(Bus.PAGES_SEARCH, msg -> serve(msg, this::searchPages)).completion(),
        bus.<JsonObject>consumer(Bus.PAGES_REVALIDATED, msg -> serve(msg, this::revalidated)).completion(),
        consume(Bus.PAGES_DELETE, this::deletePages),
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
          LOG.warn("store not ready, PostgreSQL at {}:{} unreachable or failing ({}); retrying in {} ms",
              connect.getHost(), connect.getPort(), rootMessage(err), retryDelayMs);
          retryTimer = vertx.setTimer(retryDelayMs, t -> migrate());
          retryDelayMs = Math.min(retryDelayMs * 2, MAX_RETRY_DELAY_MS);
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

  private Future<JsonObject> savePage(JsonObject json) {
    SavePage p = SavePage.from(json);
    WebUrl url = WebUrl.parse("url", p.url());
    if (p.body() != null && (p.sha256() == null || !SHA256.matcher(p.sha256()).matches())) {
      throw Failure.INVALID.exception("sha256: a body needs its SHA-256 as 64 lower-case hex digits");
    }
    Tuple params = PageRows.insertParams(p, url, null, indexer != null);
    return writer.insert(params).compose(rows -> {
      if (rows.size() == 1) {
        Row r = rows.iterator().next();
        Page page = new Page(r.getLong("id"), r.getString("fetch_id"), url.toString(), p.finalUrl(), url.host(),
            p.status(), p.contentType(), p.headers(), p.body() == null ? null : (long) p.body().length(),
            p.body() == null ? null : p.sha256(), p.title(), p.fetchedAt(), p.elapsedMs(), p.timing(), p.retries(),
            p.error(), p.errorClass(), null, p.extracted().getJsonObject("metadata"), false);
        vertx.eventBus().publish(Bus.PAGE_STORED, page.toJson());
        Meters.of(vertx).pageStored(p.error() != null);
        return Future.succeededFuture(new JsonObject().put("page", page.toJson()).put("created", true));
      }
      // This fetch was saved before (a cache hit or a joined fetch saving again): answer with that page.
      return pool.preparedQuery(Sql.PAGE_BY_FETCH_ID).execute(Tuple.of(p.fetchId()))
          .map(existing -> new JsonObject().put("page", single(existing, "fetch " + p.fetchId()).toJson())
              .put("created", false));
    });
  }

  private Future<JsonObject> getPage(JsonObject req) {
    Set<String> formats = ContentFormats.from(req);
    if (!formats.equals(ContentFormats.DEFAULT)) {
      long id = id(req);
      return pool.preparedQuery(Sql.PAGE_BY_ID).execute(Tuple.of(id)).compose(rows -> {
        JsonObject page = single(rows, "page " + id).toJson();
        return pool.preparedQuery(Sql.FORMATS_BY_PAGE_ID)
            .execute(Tuple.of(id, formats.contains("html"), formats.contains(ContentFormats.MARKDOWN)))
            .compose(f -> {
              Row r = f.iterator().next();
              return markdown(id, r, formats).map(markdown -> withFormats(page, r, formats, markdown));
            });
      });
    }
    if (req.getValue("fetchId") != null) {
      String fetchId = req.getValue("fetchId").toString();
      Fields.uuid("fetchId", fetchId, "a UUID");
      return pool.preparedQuery(Sql.PAGE_BY_FETCH_ID).execute(Tuple.of(fetchId))
          .map(rows -> single(rows, "fetch " + fetchId).toJson());
    }
    long id = id(req);
    return pool.preparedQuery(Sql.PAGE_BY_ID).execute(Tuple.of(id)).map(rows -> single(rows, "page " + id).toJson());
  }

  /** {@link Bus#PAGES_DELETE}: by ids, or every page of a job. */
  private Future<JsonObject> deletePages(JsonObject req) {
    if (req.getValue("jobId") != null) {
      String jobId = Jobs.jobId(new JsonObject().put("id", req.getValue("jobId")));
      // A cancelled job's fetches in flight may still store pages: deleted as they come, for settleMs at most (at
      // most a lease: by then the leases of fetches still in flight have ended).
      long leaseMs = Settings.number(config(), "crawl", "leaseMs").longValue();
      long settleMs = Math.max(0, Math.min(leaseMs, req.getLong("settleMs", 0L)));
      return deletion.deleteJob(jobId, settleMs).map(n -> new JsonObject().put("deleted", n));
    }
    if (!(req.getValue("ids") instanceof JsonArray ids) || ids.isEmpty() || ids.size() > PageDeletion.BATCH) {
      throw Failure.INVALID.exception("ids: must be an array of 1 to " + PageDeletion.BATCH + " page ids, or jobId a job id");
    }
    Long[] pageIds = new Long[ids.size()];
    for (int i = 0; i < pageIds.length; i++) {
      pageIds[i] = id(new JsonObject().put("id", ids.getValue(i)));
    }
    return deletion.delete(pageIds, "request").map(n -> new JsonObject().put("deleted", n));
  }

  private Future<JsonObject> revalidated(JsonObject req) {
    long id = id(req);
    return pool.preparedQuery(Sql.REVALIDATE_PAGE).execute(Tuple.of(id)).map(rows -> {
      JsonObject page = single(rows, "stored copy with id " + id).toJson();
      vertx.eventBus().publish(Bus.PAGE_REVALIDATED, page);
      return page;
    });
  }

  private Future<JsonObject> getContent(JsonObject req) {
    long id = id(req);
    return pool.preparedQuery(Sql.CONTENT_BY_PAGE_ID).execute(Tuple.of(id)).map(rows -> {
      if (rows.size() == 0) {
        throw Failure.NOT_FOUND.exception("there is no page " + id);
      }
      Row r = rows.iterator().next();
      if (r.getBuffer("body") == null) {
        throw Failure.NOT_FOUND.exception("page " + id + " has no stored body: its fetch failed ("
            + r.getString("error") + ")");
      }
      return new JsonObject().put("contentType", r.getString("content_type")).put("body", r.getBuffer("body"));
    });
  }

  private Future<JsonObject> findPages(JsonObject req) {
    PageQuery query = PageQuery.from(req);
    PageFinder.Statement st = PageFinder.statement(query);
    return pool.preparedQuery(st.sql()).execute(st.params()).compose(rows -> {
      List<JsonObject> items = new ArrayList<>();
      boolean more = false;
      for (Row r : rows) {
        if (items.size() == query.limit()) {
          more = true;
          break;
        }
        items.add(PageRows.page(r).toJson());
      }
      return query.formats().equals(ContentFormats.DEFAULT) || items.isEmpty() ? Future.succeededFuture(listing(items, more))
          : withContent(items, query.formats(), more);
    });
  }

  /** A listing's answer: the items, and the cursor after the last of them when more follow. */
  private static JsonObject listing(List<JsonObject> items, boolean more) {
    return new JsonObject().put("items", new JsonArray(new ArrayList<>(items))).put("next",
        more ? PageFinder.encode(items.get(items.size() - 1).getLong("id")) : null);
  }

  /**
   * The listed pages with the formats asked for, as many of them, in order, as fit in {@link
   * PageQuery#MAX_CONTENT_BYTES} (one at least): their sizes are read first, so no answer, however large the
   * pages, holds more than that; the cursor then goes on after the last page that fit. Markdown a page was stored
   * without is made now and kept, as for a single page.
   */
  private Future<JsonObject> withContent(List<JsonObject> items, Set<String> formats, boolean more) {
    Long[] ids = items.stream().map(p -> p.getLong("id")).toArray(Long[]::new);
    return pool.preparedQuery(Sql.CONTENT_SIZES).execute(Tuple.of(ids, formats.contains("links"))).compose(sizes -> {
      Map<Long, Long> weight = new HashMap<>();
      for (Row r : sizes) {
        weight.put(r.getLong("id"), (formats.contains("text") ? r.getLong("text_bytes") : 0)
            + (formats.contains(ContentFormats.MARKDOWN) ? r.getLong("markdown_bytes") : 0)
            + (formats.contains("html") ? r.getLong("body_bytes") : 0) + r.getLong("links_bytes"));
      }
      int fit = 0;
      long total = 0;
      while (fit < items.size() && (fit == 0 || total + weight.getOrDefault(ids[fit], 0L) <= PageQuery.MAX_CONTENT_BYTES)) {
        total += weight.getOrDefault(ids[fit], 0L);
        fit++;
      }
      List<JsonObject> kept = items.subList(0, fit);
      boolean cut = fit < items.size();
      return pool.preparedQuery(Sql.FORMATS_BY_PAGE_IDS).execute(Tuple.of(Arrays.copyOf(ids, fit),
              formats.contains("text"), formats.contains(ContentFormats.MARKDOWN), formats.contains("links"),
              formats.contains("html")))
          .compose(rows -> {
            Map<Long, Row> byId = new HashMap<>();
            rows.forEach(r -> byId.put(r.getLong("id"), r));
            // One page at a time: markdown to make is worker work, and a listing should not take every worker.
            Future<Void> chain = Future.succeededFuture();
            for (JsonObject page : kept) {
              Row r = byId.get(page.getLong("id"));
              if (r != null) {
                chain = chain.compose(v -> markdown(page.getLong("id"), r, formats)
                    .map(md -> {
                      withFormats(page, r, formats, md);
                      return null;
                    }));
              }
            }
            return chain.map(v -> listing(kept, more || cut));
          });
    });
  }

  /** The matches, and how far behind the index is ({@code lag}): pages stored since are not found yet. */
  private Future<JsonObject> searchPages(JsonObject req) {
    SearchRequest search = SearchRequest.from(req);
    if (indexer == null) {
      throw Failure.NOT_FOUND.exception("search is turned off on this service (search.enabled is false): "
          + "stored pages are not indexed");
    }
    return Future.all(matches(search), indexer.lag(10_000)).map(both -> both.<JsonObject>resultAt(0).put("lag", both.resultAt(1)));
  }

  private Future<JsonObject> matches(SearchRequest search) {
    return pool.preparedQuery(Sql.SEARCH_PAGES).execute(PageSearch.params(search)).map(rows -> {
      JsonArray items = new JsonArray();
      Row last = null;
      for (Row r : rows) {
        if (items.size() == search.limit()) {
          return new JsonObject().put("items", items)
              .put("next", PageSearch.encode(last.getFloat("rank"), last.getLong("id")));
        }
        items.add(PageRows.page(r).toJson().put("rank", r.getFloat("rank"))
            .put("snippet", PageSearch.snippet(r.getString("snippet"))));
        last = r;
      }
      return new JsonObject().put("items", items).putNull("next");
    });
  }

  /**
   * The page's markdown when it is asked for: stored, or made now from the stored body and kept (a page is stored
   * with markdown only when its request or job asked for it: see {@link ContentFormats#toStore}).
   */
  private Future<String> markdown(long id, Row r, Set<String> formats) {
    String stored = r.getString("markdown");
    Buffer body = r.getBuffer("body");
    if (!formats.contains(ContentFormats.MARKDOWN) || stored != null || body == null
        || !MediaTypes.isHtml(r.getString("content_type"))) {
      return Future.succeededFuture(stored);
    }
    String url = Objects.requireNonNullElse(r.getString("final_url"), r.getString("url"));
    return extraction.extract(url, r.getString("content_type"), body, List.of(ContentFormats.MARKDOWN), null)
        .compose(made -> {
          String markdown = made.getString(ContentFormats.MARKDOWN);
          return markdown == null ? Future.succeededFuture(null)
              : pool.preparedQuery(Sql.SET_MARKDOWN).execute(Tuple.of(id, markdown)).map(markdown);
        });
  }

  /** Adds the asked formats to a page record; {@code metadata} is always in it. */
  private static JsonObject withFormats(JsonObject page, Row r, Set<String> formats, String markdown) {
    if (formats.contains("text")) {
      page.put("text", r.getString("text"));
    }
    if (formats.contains("markdown")) {
      page.put("markdown", markdown);
    }
    if (formats.contains("links")) {
      page.put("links", r.getValue("links") instanceof JsonArray a ? a : null);
    }
    if (formats.contains("html")) {
      Buffer body = r.getBuffer("body");
      page.put("html", body == null ? null : body.toString(Objects.requireNonNullElse(
          MediaTypes.charset(r.getString("content_type")), "UTF-8")));
    }
    return page;
  }

  static long id(JsonObject req) {
    Object v = req.getValue("id");
    if (v instanceof Number n && n.longValue() > 0 && n.doubleValue() == n.longValue()) {
      return n.longValue();
    }
    if (v instanceof String s && s.matches("\\d{1,18}") && Long.parseLong(s) > 0) {
      return Long.parseLong(s);
    }
    throw Failure.INVALID.exception("id: must be a positive whole number");
  }

  private static Page single(RowSet<Row> rows, String what) {
    if (rows.size() == 0) {
      throw Failure.NOT_FOUND.exception("there is no " + what);
    }
    return PageRows.page(rows.iterator().next());
  }

  private static String rootMessage(Throwable t) {
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }
}
