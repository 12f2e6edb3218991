package io.fetchbus.store;

import io.fetchbus.bus.Failure;
import io.fetchbus.bus.Fields;
import io.fetchbus.bus.SavePage;
import io.fetchbus.bus.WebUrl;
import io.vertx.core.Future;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.DatabaseException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The crawl frontier's operations for the crawl verticles: leases that fence every completion, so an entry is
 * stored once even when a node pauses past its lease and another node fetches it again.
 */
final class Frontier {
  private static final Logger LOG = LoggerFactory.getLogger(Frontier.class);
  private static final Set<String> OUTCOMES = Set.of("retry", "requeue", "failed", "robots");
  private static final Set<String> LIVE = Set.of("queued", "running");
  /** What a node id looks like (a UUID): it goes into a prefix match, so nothing else is accepted. */
  private static final java.util.regex.Pattern NODE_ID = java.util.regex.Pattern.compile("[A-Za-z0-9-]{1,64}");
  /** Live jobs looked at per claim. */
  private static final int JOBS_PER_CLAIM = 4;

  private final Pool pool;
  /** Completions with a page: written in batches per job. */
  private final CrawlCompletions completions;
  /** What the crawl verticles wait for an answer (pg.requestTimeoutMs). */
  private final long requestTimeoutMs;

  Frontier(Pool pool, CrawlCompletions completions, long requestTimeoutMs) {
    this.pool = pool;
    this.completions = completions;
    this.requestTimeoutMs = requestTimeoutMs;
  }

  /**
   * {@code {"owner","max","leaseMs","perHost","busyHosts":{jobId:[host]}}} -> {@code {"entries":[{"jobId","urlKey",
   * "url","host","depth","attempts","token"}], "changed":[jobId], "started":[jobId]}}. Jobs take turns; each is locked while it is
   * claimed from, so its limit holds across nodes. A job with nothing queued or leased, or that reached its limit
   * with nothing leased, completes here; {@code changed} lists jobs that started or finished, and {@code started}
   * those of them that went from queued to running (under the job's lock, so that happens in one claim only).
   */
  Future<JsonObject> claim(JsonObject req) {
    String owner = req.getString("owner");
    int max = req.getInteger("max", 16);
    long leaseMs = req.getLong("leaseMs", 60_000L);
    int perHost = req.getInteger("perHost", 4);
    JsonObject busy = req.getJsonObject("busyHosts", new JsonObject());
    JsonObject reply = new JsonObject().put("entries", new JsonArray()).put("changed", new JsonArray())
        .put("started", new JsonArray());
    return pool.preparedQuery(CrawlSql.LIVE_JOBS).execute(Tuple.of(JOBS_PER_CLAIM)).compose(jobs -> {
      Future<Void> chain = Future.succeededFuture();
      for (Row job : jobs) {
        String jobId = job.getString("id");
        chain = chain.compose(v -> {
          int room = max - reply.getJsonArray("entries").size();
          if (room <= 0) {
            return Future.succeededFuture();
          }
          List<String> busyHosts = busy.getJsonArray(jobId, new JsonArray()).stream().map(Object::toString).toList();
          return pool.withTransaction(tx -> claimFrom(tx, jobId, owner, room, leaseMs, perHost, busyHosts, reply));
        });
      }
      return chain.map(reply);
    });
  }

  private Future<Void> claimFrom(SqlConnection tx, String jobId, String owner, int max, long leaseMs, int perHost,
                                 List<String> busyHosts, JsonObject reply) {
    return tx.preparedQuery(CrawlSql.LOCK_JOB).execute(Tuple.of(jobId)).compose(locked -> {
      Row job = locked.size() == 0 ? null : locked.iterator().next();
      if (job == null || !LIVE.contains(job.getString("state"))) {
        return Future.succeededFuture(); // finished or cancelled since it was listed
      }
      int room = Math.min(max, job.getInteger("room"));
      Integer maxConcurrency = job.getInteger("max_concurrency");
      if (maxConcurrency != null) {
        room = Math.min(room, maxConcurrency - job.getInteger("leased")); // the job's own bound, every node's leases
      }
      int hosts = Math.max(1, (room + perHost - 1) / perHost) * 2;
      Future<Integer> claimed = room <= 0 ? Future.succeededFuture(0)
          : tx.preparedQuery(CrawlSql.CLAIM).execute(Tuple.of(jobId, owner, room, perHost, hosts, leaseMs,
              busyHosts.toArray(String[]::new))).map(rows -> {
                for (Row r : rows) {
                  reply.getJsonArray("entries").add(new JsonObject().put("jobId", jobId)
                      .put("urlKey", r.getString("url_key")).put("url", r.getString("url"))
                      .put("host", r.getString("host")).put("depth", r.getInteger("depth"))
                      .put("attempts", r.getInteger("attempts")).put("token", r.getString("token")));
                }
                return rows.rowCount();
              });
      return claimed.compose(n -> {
        boolean started = n > 0 && "queued".equals(job.getString("state"));
        if (started) {
          reply.getJsonArray("changed").add(jobId);
          reply.getJsonArray("started").add(jobId);
        }
        if (n == 0 && job.getInteger("leased") == 0 && (job.getInteger("queued") == 0 || job.getInteger("room") <= 0)) {
          return finish(tx, jobId, job.getInteger("queued") > 0, reply);
        }
        return tx.preparedQuery(CrawlSql.MARK_CLAIMED).execute(Tuple.of(jobId, n > 0)).mapEmpty();
      });
    });
  }

  /** Nothing left to fetch: the job is completed, and what it still had queued past its limit is skipped. */
  private Future<Void> finish(SqlConnection tx, String jobId, boolean limitReached, JsonObject reply) {
    Future<?> skip = !limitReached ? Future.succeededFuture()
        : tx.preparedQuery(CrawlSql.SKIP_QUEUED).execute(Tuple.of(jobId, "not fetched: the job reached its limit"));
    return skip.compose(v -> tx.preparedQuery(CrawlSql.FINISH_JOB).execute(Tuple.of(jobId, "completed")))
        .map(rows -> {
          if (rows.size() > 0) {
            reply.getJsonArray("changed").add(jobId);
          }
          return null;
        });
  }

  /**
   * {@code {"jobId","urlKey","token","page": SavePage|null, "links":[{"url","key","host"}], "linkDepth"?}} -> {@code
   * {"page"}}: stores the page, marks the entry done and adds its links, in one transaction and only under the
   * current lease (409 {@code lease-lost} otherwise, and nothing is written; see {@link CrawlCompletions}). A page's links go one level below
   * the entry's depth as the frontier has it when the statement runs (a shorter path may have lowered it since the
   * lease), and only within the job's maxDepth; they are kept, so that a shorter path found later follows them
   * from there. Without a page the entry was the job's sitemaps: its URLs go in at {@code linkDepth}, and it is
   * removed. Before that, {@code "undecided"} links (optional, same shape), whose scope the job's patterns could not
   * decide within the regex budget, become failed entries (at {@code "undecidedDepth"}, else {@code linkDepth}, else
   * 1): the job's errors say so, where they would otherwise vanish, and are whole when the completion ends the job.
   */
  Future<JsonObject> complete(JsonObject req) {
    String jobId = Jobs.jobId(new JsonObject().put("id", req.getString("jobId")));
    String urlKey = req.getString("urlKey");
    String token = req.getString("token");
    Fields.uuid("token", token, "a UUID");
    SavePage save = req.getValue("page") == null ? null : SavePage.from(req.getJsonObject("page"));
    WebUrl url = save == null ? null : WebUrl.parse("page.url", save.url());
    JsonArray links = req.getJsonArray("links", new JsonArray());
    Integer linkDepth = save == null ? req.getInteger("linkDepth") : null;
    if (save == null && !links.isEmpty() && linkDepth == null) {
      throw Failure.INVALID.exception("linkDepth: required with links and no page");
    }
    String[][] link = Jobs.urlColumns(links);
    // The undecided links first: once the completion commits, the job may end at once, and its errors must be whole.
    JsonArray undecided = req.getJsonArray("undecided", new JsonArray());
    Future<Void> recorded = undecided.isEmpty() ? Future.succeededFuture()
        : recordUndecided(jobId, urlKey, undecided, req.getInteger("undecidedDepth", linkDepth == null ? 1 : linkDepth));
    if (save != null) {
      return recorded.compose(v -> completions.complete(
          new CrawlCompletions.Completion(jobId, urlKey, token, save, url, link)));
    }
    return recorded.compose(v -> pool.preparedQuery(CrawlSql.COMPLETE_WITHOUT_PAGE)
            .execute(Tuple.of(jobId, urlKey, token, link[0], link[1], link[2], linkDepth)))
        .recover(err -> Future.failedFuture(err instanceof DatabaseException db
            && CrawlSql.LEASE_LOST.equals(db.getSqlState())
            ? Failure.LEASE_LOST.exception("the lease on " + urlKey + " expired or was taken over; the result is dropped")
            : err))
        .map(rows -> new JsonObject().putNull("page"));
  }

  /**
   * Links found at {@code foundAt} that the job's patterns could not decide about: failed entries with error class
   * {@code regex-budget}, under the job's lock like every change to its frontier. A URL already in the frontier
   * keeps its entry. Written before the completion, which it does not need to be atomic with: should it fail, the
   * page is stored all the same, and the failure is logged; should the lease be lost, the next holder's identical
   * links find these entries there.
   */
  private Future<Void> recordUndecided(String jobId, String foundAt, JsonArray links, int depth) {
    String[][] link = Jobs.urlColumns(links);
    String error = "not followed: the job's includePaths/excludePaths could not be matched against it within the "
        + "regex budget of the page that links to it (" + foundAt + ")";
    return pool.withTransaction(tx -> lockJob(tx, jobId).compose(v -> tx.preparedQuery(CrawlSql.INSERT_UNDECIDED)
            .execute(Tuple.of(jobId, link[0], link[1], link[2], depth, error))))
        .onFailure(err -> LOG.warn("{} links of job {} that its patterns could not decide about are not recorded: {}",
            links.size(), jobId, err.getMessage()))
        .otherwiseEmpty()
        .mapEmpty();
  }

  /** {@code {"jobId","urlKey","token","outcome","delayMs","error","errorClass","maxAttempts"}} -> {@code {"state"}}. */
  Future<JsonObject> retry(JsonObject req) {
    String outcome = req.getString("outcome");
    if (!OUTCOMES.contains(outcome)) {
      throw Failure.INVALID.exception("outcome: must be one of " + OUTCOMES);
    }
    String jobId = Jobs.jobId(new JsonObject().put("id", req.getString("jobId")));
    Fields.uuid("token", req.getString("token"), "a UUID");
    Tuple params = Tuple.tuple().addValue(jobId).addValue(req.getString("urlKey"))
        .addValue(req.getString("token")).addValue(outcome).addValue(req.getLong("delayMs", 0L))
        .addValue(req.getString("error")).addValue(req.getString("errorClass"))
        .addValue(req.getInteger("maxAttempts", 3));
    return pool.withTransaction(tx -> lockJob(tx, jobId).compose(v -> tx.preparedQuery(CrawlSql.RETRY).execute(params)))
        .map(rows -> {
          if (rows.size() == 0) {
            throw Failure.LEASE_LOST.exception("the lease on " + req.getString("urlKey") + " expired or was taken over");
          }
          return new JsonObject().put("state", rows.iterator().next().getString("state"));
        });
  }

  /** {@code {"owner","tokens":[...],"leaseMs"}} -> {@code {"renewed": n}}. */
  Future<JsonObject> renew(JsonObject req) {
    UUID[] tokens;
    try {
      tokens = leaseTokens(req.getJsonArray("tokens", new JsonArray()), "tokens");
    } catch (ReplyException e) {
      return Future.failedFuture(e);
    }
    return pool.preparedQuery(CrawlSql.RENEW).execute(Tuple.of(req.getString("owner"), tokens, req.getLong("leaseMs")))
        .map(rows -> new JsonObject().put("renewed", rows.rowCount()));
  }

  /**
   * {@code {"owner"}} -> {@code {"released": n}}: a crawl verticle that stops gives its leases back, without counting
   * the attempt. {@code {"owner", "keep": [token], "maxAttempts"}} -> the same for the leases of that owner it does
   * not know it holds, the attempt counted (see {@link CrawlSql#RELEASE_UNKNOWN}). {@code {"node", "maxAttempts"}} -> the same for every lease of a node that left the cluster, the
   * attempt counted (see {@link CrawlSql#RELEASE_NODE}), unless the node is still connected to the database
   * ({@code "connected": true}, nothing released).
   */
  Future<JsonObject> release(JsonObject req) {
    String node = req.getString("node");
    if (node != null) {
      if (!NODE_ID.matcher(node).matches()) {
        return Future.failedFuture(Failure.INVALID.exception("node: must be a node id (letters, digits and '-')"));
      }
      int maxAttempts = req.getInteger("maxAttempts", 3);
      // A node that left the view but is still connected is alive: the other half of a split, or frozen. Its leases
      // stay (it renews them, or they run out): released, they would be fetched again by this half.
      return pool.preparedQuery(CrawlSql.NODE_CONNECTED).execute(Tuple.of(node)).compose(rows -> {
        if (rows.iterator().next().getBoolean("connected")) {
          return Future.succeededFuture(new JsonObject().put("released", 0).put("connected", true));
        }
        return pool.preparedQuery(CrawlSql.JOBS_WITH_LEASES_OF_NODE).execute(Tuple.of(node))
            .compose(jobs -> eachJob(jobs, CrawlSql.RELEASE_NODE, jobId -> Tuple.of(node, jobId, maxAttempts)))
            .map(n -> new JsonObject().put("released", n).put("connected", false));
      });
    }
    String owner = req.getString("owner");
    JsonArray keep = req.getJsonArray("keep");
    if (keep != null) {
      UUID[] tokens;
      try {
        tokens = leaseTokens(keep, "keep");
      } catch (ReplyException e) {
        return Future.failedFuture(e);
      }
      int maxAttempts = req.getInteger("maxAttempts", 3);
      // Its "keep" is a snapshot of the sender's leases: should it commit after the sender gave up on it, it would
      // take leases claimed since. So each transaction ends within the sender's wait, or not at all.
      return pool.preparedQuery(CrawlSql.JOBS_WITH_LEASES).execute(Tuple.of(owner))
          .compose(jobs -> eachJob(jobs, CrawlSql.RELEASE_UNKNOWN, jobId -> Tuple.of(owner, jobId, tokens, maxAttempts),
              "SET LOCAL statement_timeout = " + Math.max(1, requestTimeoutMs / 2)))
          .map(n -> new JsonObject().put("released", n));
    }
    return perJob(owner, CrawlSql.RELEASE, jobId -> Tuple.of(owner, jobId))
        .map(n -> new JsonObject().put("released", n));
  }

  /** {@code {"maxAttempts"}} -> {@code {"reaped": n}}. */
  Future<JsonObject> reap(JsonObject req) {
    int maxAttempts = req.getInteger("maxAttempts", 3);
    return perJob(null, CrawlSql.REAP, jobId -> Tuple.of(maxAttempts, jobId))
        .map(n -> new JsonObject().put("reaped", n));
  }

  /** Runs {@code sql} for each job with leases to reap (owner null) or held by {@code owner}, one job at a time. */
  private Future<Integer> perJob(String owner, String sql, java.util.function.Function<String, Tuple> params) {
    return pool.preparedQuery(CrawlSql.JOBS_WITH_LEASES).execute(Tuple.of(owner)).compose(jobs -> eachJob(jobs, sql, params));
  }

  /** Runs {@code sql} for each job of {@code jobs} (rows with {@code job_id}), under its lock, one job at a time. */
  private Future<Integer> eachJob(RowSet<Row> jobs, String sql, java.util.function.Function<String, Tuple> params) {
    return eachJob(jobs, sql, params, null);
  }

  /** The same, each transaction beginning with {@code setting} (a {@code SET LOCAL}) when it is not null. */
  private Future<Integer> eachJob(RowSet<Row> jobs, String sql, java.util.function.Function<String, Tuple> params,
                                  String setting) {
    Future<Integer> total = Future.succeededFuture(0);
    for (Row row : jobs) {
      String jobId = row.getString("job_id");
      total = total.compose(sum -> pool.withTransaction(tx -> (setting == null ? Future.succeededFuture()
              : tx.query(setting).execute())
          .compose(v -> lockJob(tx, jobId))
          .compose(v -> tx.preparedQuery(sql).execute(params.apply(jobId)))).map(rows -> sum + rows.rowCount()));
    }
    return total;
  }

  /** The job's row lock, taken before its first frontier change by every transaction (see {@link CrawlSql#LOCK_JOB}). */
  private static Future<Void> lockJob(SqlConnection tx, String jobId) {
    return tx.preparedQuery(CrawlSql.LOCK_JOB).execute(Tuple.of(jobId)).mapEmpty();
  }

  /**
   * The lease tokens in {@code tokens}, under the one rule of a UUID field ({@link Fields#uuid}): the column is uuid,
   * and the client encodes a uuid[] parameter only from UUIDs. A 400 naming {@code field} otherwise.
   */
  private static UUID[] leaseTokens(JsonArray tokens, String field) {
    return tokens.stream().map(t -> Fields.uuid(field, t instanceof String s ? s : null, "lease tokens (UUIDs)"))
        .toArray(UUID[]::new);
  }
}
