package io.fetchbus.store;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.CrawlJob;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.ops.Meters;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Crawl and batch jobs: creating them with their seeds, reading, listing and cancelling them. */
final class Jobs {
  static final Set<String> STATES = Set.of(CrawlJob.QUEUED, CrawlJob.RUNNING, CrawlJob.COMPLETED,
      CrawlJob.CANCELLED, CrawlJob.FAILED);

  private static final Logger LOG = LoggerFactory.getLogger(Jobs.class);
  /** How long a crawl node has to take a job's end before another is told. */
  private static final long ENDED_TIMEOUT_MS = 5_000;

  private final Pool pool;
  private final Vertx vertx;
  private final EventBus bus;

  Jobs(Pool pool, Vertx vertx) {
    this.pool = pool;
    this.vertx = vertx;
    this.bus = vertx.eventBus();
  }

  /**
   * {@code {"kind","spec","limit","keyName"?,"idempotencyKey"?,"requestSha256"?,"maxActiveJobs"?,
   * "seeds":[{"url","key","host"}]}} -> {@code {"job", "created"}}. The job and its seeds are one transaction.
   * The same idempotency key of the same submitter on the same endpoint ({@code kind}) finds the first job, if the
   * request is the same (else 422); a submitter with {@code maxActiveJobs} queued or running jobs gets a 429.
   */
  Future<JsonObject> create(JsonObject req) {
    String keyName = req.getString("keyName");
    String idempotencyKey = req.getString("idempotencyKey");
    Tuple scope = Tuple.of(keyName, req.getString("kind"), idempotencyKey);
    Tuple submitter = Tuple.of(keyName == null ? "" : keyName);
    return pool.withTransaction(tx -> tx.preparedQuery(CrawlSql.LOCK_SUBMITTER).execute(submitter)
        .compose(locked -> idempotencyKey == null ? Future.<RowSet<Row>>succeededFuture(null)
            : tx.preparedQuery(CrawlSql.JOB_BY_IDEMPOTENCY_KEY).execute(scope))
        .compose(earlier -> earlier == null || earlier.size() == 0 ? insertWithinQuota(tx, req)
            : Future.succeededFuture(sameRequest(earlier.iterator().next(), idempotencyKey,
                req.getString("requestSha256")))))
        .compose(made -> made.containsKey("job") ? Future.succeededFuture(made)
            : get(made.getString("id")).map(job -> new JsonObject().put("job", job).put("created", true)));
  }

  /** Counts the submitter's active jobs (its lock is held), then inserts the job and its seeds: {@code {"id"}}. */
  private static Future<JsonObject> insertWithinQuota(SqlClient tx, JsonObject req) {
    String keyName = req.getString("keyName");
    int maxActive = req.getInteger("maxActiveJobs", Integer.MAX_VALUE);
    return tx.preparedQuery(CrawlSql.ACTIVE_JOBS_OF).execute(Tuple.of(keyName)).compose(active -> {
      long n = active.iterator().next().getLong("n");
      if (n >= maxActive) {
        throw Failure.TOO_MANY_JOBS.exception((keyName == null ? "requests without an API key have "
            : "key " + keyName + " has ") + n + " active jobs (queued or running), the most "
            + "limits.maxActiveJobsPerKey allows; cancel one or wait for one to end");
      }
      JsonObject spec = req.getJsonObject("spec");
      return tx.preparedQuery(CrawlSql.INSERT_JOB).execute(Tuple.of(req.getString("kind"), spec,
              req.getInteger("limit"), keyName, req.getString("idempotencyKey"), req.getString("requestSha256"),
              maxDepth(req.getString("kind"), spec)))
          .compose(rows -> {
            String id = rows.iterator().next().getString("id");
            return addUrls(tx, id, req.getJsonArray("seeds", new JsonArray()), 0).map(new JsonObject().put("id", id));
          });
    });
  }

  /** The earlier job of a retried submission; another request under its key is refused, as the IETF draft has it. */
  private static JsonObject sameRequest(Row earlier, String idempotencyKey, String requestSha256) {
    String earlierSha256 = earlier.getString("request_sha256");
    CrawlJob job = job(earlier);
    // A job made before V10 has no hash: it answers as it always did.
    if (earlierSha256 != null && !earlierSha256.equals(requestSha256)) {
      throw Failure.IDEMPOTENCY_KEY_REUSED.exception("Idempotency-Key: '" + idempotencyKey + "' was already used "
          + "for another request, which made " + job.kind() + " job " + job.id() + "; use a new key for a new request");
    }
    return new JsonObject().put("job", job.toJson()).put("created", false);
  }

  /** How deep the pages are that a job follows links to: a crawl's {@code maxDepth}; a batch follows none. */
  private static int maxDepth(String kind, JsonObject spec) {
    return "crawl".equals(kind) && spec != null && spec.getValue("maxDepth") instanceof Number n ? n.intValue() : 0;
  }

  /** Inserts {@code [{"url","key","host"}]} at {@code depth}, leaving URLs the job has at that depth or less alone. */
  static Future<RowSet<Row>> addUrls(SqlClient client, String jobId, JsonArray urls, int depth) {
    String[][] columns = urlColumns(urls);
    return client.preparedQuery(CrawlSql.ADD_URLS).execute(Tuple.of(jobId, columns[0], columns[1], columns[2], depth));
  }

  /** {@code [{"url","key","host"}]} as the three arrays the SQL takes: keys, URLs and hosts. */
  static String[][] urlColumns(JsonArray urls) {
    String[][] columns = new String[3][urls.size()];
    for (int i = 0; i < urls.size(); i++) {
      JsonObject u = urls.getJsonObject(i);
      columns[0][i] = u.getString("key");
      columns[1][i] = u.getString("url");
      columns[2][i] = u.getString("host");
    }
    return columns;
  }

  Future<JsonObject> status(JsonObject req) {
    return get(jobId(req));
  }

  private Future<JsonObject> get(String id) {
    return pool.preparedQuery(CrawlSql.JOB_BY_ID).execute(Tuple.of(id)).map(rows -> single(rows, "job " + id).toJson());
  }

  Future<JsonObject> list(JsonObject req) {
    String status = req.getString("status");
    if (status != null && !STATES.contains(status)) {
      throw Failure.INVALID.exception("status: must be one of " + String.join(", ", STATES.stream().sorted().toList()));
    }
    int limit = ListingParams.limit(req, 20);
    OffsetDateTime afterAt = null;
    String afterId = null;
    if (req.getString("after") != null) {
      Cursors.TimeAndId cursor = Cursors.decodeTimeAndId(req.getString("after"), "j1:", "this service");
      afterAt = cursor.at();
      afterId = cursor.id();
    }
    String kind = req.getString("kind");
    if (kind != null && !kind.equals("crawl") && !kind.equals("batch")) {
      throw Failure.INVALID.exception("kind: must be crawl or batch");
    }
    return pool.preparedQuery(CrawlSql.LIST_JOBS).execute(Tuple.of(afterAt, afterId, status, limit + 1, kind)).map(rows -> {
      JsonArray items = new JsonArray();
      String next = null;
      OffsetDateTime lastAt = null;
      String lastId = null;
      for (Row r : rows) {
        if (items.size() == limit) {
          next = Cursors.encodeTimeAndId("j1:", lastAt.toString(), lastId);
          break;
        }
        CrawlJob job = job(r);
        items.add(job.toJson());
        lastAt = r.getOffsetDateTime("created_at");
        lastId = job.id();
      }
      return new JsonObject().put("items", items).put("next", next);
    });
  }

  /**
   * {@code {"id"}} -> {@code {"kind", "webhook"}}: the job's webhook as stored, with its secret and header values,
   * for the crawl verticles that deliver it (the job record clients see masks them). {@code webhook} is null
   * when the job has none.
   */
  Future<JsonObject> webhook(JsonObject req) {
    String id = jobId(req);
    return pool.preparedQuery(CrawlSql.JOB_BY_ID).execute(Tuple.of(id)).map(rows -> {
      CrawlJob job = single(rows, "job " + id);
      Object hook = job.spec() == null ? null : job.spec().getValue("webhook");
      return new JsonObject().put("kind", job.kind()).put("webhook", hook instanceof JsonObject h ? h : null);
    });
  }

  /**
   * Ends a queued or running job: what is still queued is skipped, in-flight fetches may still finish. Progress
   * is published; one crawl verticle is told ({@link Bus#CRAWL_ENDED}), to send the job's final webhook: this node's
   * own if it runs the crawl role, else one of a live crawl member, another if that one does not answer.
   */
  Future<JsonObject> cancel(JsonObject req) {
    String id = jobId(req);
    return pool.withTransaction(tx -> tx.preparedQuery(CrawlSql.CANCEL_JOB).execute(Tuple.of(id))
            .compose(rows -> rows.size() == 0 ? Future.succeededFuture()
                : tx.preparedQuery(CrawlSql.SKIP_QUEUED).execute(Tuple.of(id, "not fetched: the job was cancelled"))
                    .map(r -> true)))
        .compose(cancelled -> get(id).onSuccess(job -> {
          if (Boolean.TRUE.equals(cancelled)) {
            bus.publish(Bus.CRAWL_PROGRESS, job);
            MemberRouter.request(vertx, Bus.CRAWL_ENDED, job, new DeliveryOptions().setSendTimeout(ENDED_TIMEOUT_MS))
                .onFailure(err -> LOG.warn("no crawl node took the end of job {} ({}): its final webhook is not sent",
                    id, err.getMessage()));
          }
        }));
  }

  /** The URLs that failed for good or that robots.txt disallowed, with the reason, in URL order. */
  Future<JsonObject> errors(JsonObject req) {
    String id = jobId(req);
    int limit = ListingParams.limit(req, 50);
    String after = req.getString("after") == null ? null : Cursors.decode(req.getString("after"), "e1:", "this service");
    return get(id).compose(job -> pool.preparedQuery(CrawlSql.JOB_ERRORS).execute(Tuple.of(id, after, limit + 1)))
        .map(rows -> {
          JsonArray items = new JsonArray();
          String next = null;
          String lastKey = null;
          for (Row r : rows) {
            if (items.size() == limit) {
              next = Cursors.encode("e1:" + lastKey);
              break;
            }
            lastKey = r.getString("url_key");
            items.add(new JsonObject()
                .put("url", r.getString("url"))
                .put("state", r.getString("state"))
                .put("attempts", r.getInteger("attempts"))
                .put("error", r.getString("error"))
                .put("errorClass", r.getString("error_class"))
                .put("at", r.getOffsetDateTime("updated_at").toInstant()));
          }
          return new JsonObject().put("items", items).put("next", next);
        });
  }

  /** Refreshes the crawl gauges from the counters (one small query each), for scrapes to read. */
  Future<Void> refreshGauges(Meters meters) {
    return pool.query(CrawlSql.JOBS_BY_STATE).execute().compose(jobs -> {
      STATES.forEach(state -> meters.crawlGauge("fetchbus.crawl.jobs", state, 0));
      jobs.forEach(r -> meters.crawlGauge("fetchbus.crawl.jobs", r.getString("state"), r.getLong("n")));
      return pool.query(CrawlSql.ENTRIES_BY_STATE).execute();
    }).map(entries -> {
      Row r = entries.iterator().next();
      for (String state : List.of("queued", "leased", "done", "failed", "robots", "skipped")) {
        meters.crawlGauge("fetchbus.crawl.frontier.entries", state, r.getLong(state));
      }
      return null;
    });
  }

  static CrawlJob job(Row r) {
    return new CrawlJob(r.getString("id"), r.getString("kind"), r.getString("state"),
        r.getValue("spec") instanceof JsonObject spec ? spec : new JsonObject(), r.getInteger("queued"),
        r.getInteger("leased"), r.getInteger("done"), r.getInteger("failed"), r.getInteger("robots"),
        r.getInteger("skipped"), instant(r, "created_at"), instant(r, "started_at"), instant(r, "finished_at"));
  }

  private static java.time.Instant instant(Row r, String column) {
    OffsetDateTime t = r.getOffsetDateTime(column);
    return t == null ? null : t.toInstant();
  }

  private static CrawlJob single(RowSet<Row> rows, String what) {
    if (rows.size() == 0) {
      throw Failure.NOT_FOUND.exception("there is no " + what);
    }
    return job(rows.iterator().next());
  }

  static String jobId(JsonObject req) {
    return ListingParams.id(req, "job");
  }
}
