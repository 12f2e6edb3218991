package io.fetchbus.store;

import io.fetchbus.bus.ContentFormats;
import io.fetchbus.bus.CrawlJob;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.Fields;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Watches (V15): their specs, the last state of each URL, and the versions that differed, each with the page it was
 * stored as (V17). Runs are leased like the
 * frontier's entries: a claim sets a lease token, and only the holder of that token can record the run, so a node
 * that froze and woke after its lease went to another node cannot overwrite the newer run.
 */
final class Watches {
  private static final String COLUMNS = "id::text, key_name, spec, interval_seconds, next_at, lease_until, runs, "
      + "last_run_at, created_at";
  private static final String URL_COLUMNS = "watch_id::text, position, url, change_status, status, error, etag, "
      + "last_modified, checked_at, changed_at";
  private static final String LOCK_KEY = "SELECT 1 FROM pg_advisory_xact_lock(hashtext('fetchbus.watches/' || $1))";
  private static final String COUNT_KEY = "SELECT count(*) FROM watches WHERE COALESCE(key_name, '') = $1";
  private static final String INSERT = "INSERT INTO watches (key_name, spec, interval_seconds) VALUES ($1, $2, $3) "
      + "RETURNING " + COLUMNS;
  private static final String INSERT_URL = "INSERT INTO watch_urls (watch_id, position, url) VALUES ($1::uuid, $2, $3)";
  /** $2: the key whose watch it must be ('' for requests without a key), or null for the service's own reads. */
  private static final String BY_ID = "SELECT " + COLUMNS + " FROM watches WHERE id = $1::uuid "
      + "AND ($2::text IS NULL OR COALESCE(key_name, '') = $2)";
  private static final String URLS = "SELECT " + URL_COLUMNS + " FROM watch_urls WHERE watch_id = ANY($1::uuid[]) "
      + "ORDER BY watch_id, position";
  private static final String URLS_FOR_RUN = "SELECT " + URL_COLUMNS + ", text, simhash, links FROM watch_urls "
      + "WHERE watch_id = ANY($1::uuid[]) ORDER BY watch_id, position";
  private static final String LIST = "SELECT " + COLUMNS + " FROM watches WHERE COALESCE(key_name, '') = $4 AND "
      + "($1::timestamptz IS NULL OR (created_at, id) < ($1, $2::uuid)) ORDER BY created_at DESC, id DESC LIMIT $3";
  private static final String DELETE = "DELETE FROM watches WHERE id = $1::uuid AND COALESCE(key_name, '') = $2 "
      + "RETURNING id";
  private static final String CHANGES = """
      SELECT id, url, change_status, status, distance, diff, diff_truncated, added_links, removed_links, checked_at,
        page_id
      FROM watch_changes WHERE watch_id = $1::uuid AND ($2::text IS NULL OR url = $2) AND ($3::bigint IS NULL OR id < $3)
      ORDER BY id DESC LIMIT $4""";
  private static final String LEASE = "lease_owner = $1, lease_token = gen_random_uuid(), "
      + "lease_until = now() + $2 * interval '1 millisecond'";
  private static final String RENEW = "UPDATE watches SET lease_until = now() + $3 * interval '1 millisecond' "
      + "WHERE id = $1::uuid AND lease_token = $2 RETURNING id";
  private static final String CLAIM_ONE = "UPDATE watches SET " + LEASE + " WHERE id = $3::uuid AND "
      + "COALESCE(key_name, '') = $4 AND (lease_until IS NULL OR lease_until < now()) RETURNING " + COLUMNS
      + ", lease_token::text";
  /** Due watches whose lease is free or expired (a node died mid-run): oldest due first. */
  private static final String CLAIM_DUE = "UPDATE watches w SET " + LEASE + " FROM (SELECT id FROM watches "
      + "WHERE next_at <= now() AND (lease_until IS NULL OR lease_until < now()) ORDER BY next_at LIMIT $3 "
      + "FOR UPDATE SKIP LOCKED) due WHERE w.id = due.id RETURNING " + COLUMNS.replace("id::text", "w.id::text")
      .replace("key_name", "w.key_name").replace("spec", "w.spec") + ", w.lease_token::text";
  /** $4: the next run's time of a cron watch; an adaptive watch's is an interval after now. */
  private static final String RECORD = "UPDATE watches SET interval_seconds = $3::integer, "
      + "next_at = COALESCE($4::timestamptz, now() + make_interval(secs => $3::integer)), lease_owner = NULL, lease_token = NULL, lease_until = NULL, "
      + "runs = runs + 1, last_run_at = now() WHERE id = $1::uuid AND lease_token = $2::uuid RETURNING id";
  /** $8 says whether the run's version replaces the baseline (new, changed, removed); "same" keeps the old one. */
  private static final String RECORD_URL = """
      UPDATE watch_urls SET change_status = COALESCE($3, change_status), status = $4, error = $5, etag = $6,
        last_modified = $7, checked_at = now(),
        text = CASE WHEN $8 THEN $9 ELSE text END, simhash = CASE WHEN $8 THEN $10 ELSE simhash END,
        links = CASE WHEN $8 THEN $11 ELSE links END, changed_at = CASE WHEN $8 THEN now() ELSE changed_at END
      WHERE watch_id = $1::uuid AND position = $2""";
  private static final String FORGET_URL = "DELETE FROM watch_urls WHERE watch_id = $1::uuid AND position = $2";
  private static final String INSERT_CHANGE = """
      INSERT INTO watch_changes (watch_id, url, change_status, status, distance, diff, diff_truncated, added_links,
        removed_links, page_id) VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10)""";
  /** Keeps the newest $3 versions of one URL of a watch. */
  private static final String RETAIN = """
      DELETE FROM watch_changes WHERE watch_id = $1::uuid AND url = $2 AND id < (SELECT min(id) FROM
        (SELECT id FROM watch_changes WHERE watch_id = $1::uuid AND url = $2 ORDER BY id DESC LIMIT $3) newest)""";

  private final Pool pool;

  Watches(Pool pool) {
    this.pool = pool;
  }

  /** {@code {"spec", "keyName"?, "maxPerKey"}}: the spec was validated by the crawl role. 429 past the bound. */
  Future<JsonObject> insert(JsonObject req) {
    JsonObject spec = req.getJsonObject("spec");
    String key = req.getString("keyName") == null ? "" : req.getString("keyName");
    int max = req.getInteger("maxPerKey");
    JsonArray urls = spec.getJsonArray("urls");
    return pool.withTransaction(tx -> tx.preparedQuery(LOCK_KEY).execute(Tuple.of(key))
        .compose(locked -> tx.preparedQuery(COUNT_KEY).execute(Tuple.of(key)))
        .compose(count -> {
          long n = count.iterator().next().getLong(0);
          if (n >= max) {
            return Future.failedFuture(Failure.LIMITED.exception("this API key has " + n
                + " watches, the most watches.maxPerKey allows: delete one first"));
          }
          return tx.preparedQuery(INSERT).execute(Tuple.of(req.getString("keyName"), spec,
              spec.getInteger("intervalSeconds")));
        })
        .compose(rows -> {
          String id = rows.iterator().next().getString(0);
          List<Tuple> batch = new ArrayList<>();
          for (int i = 0; i < urls.size(); i++) {
            batch.add(Tuple.of(id, i, urls.getString(i)));
          }
          // A site watch (crawl) has no URLs yet: its runs add the pages they reach.
          return batch.isEmpty() ? Future.succeededFuture(id) : tx.preparedQuery(INSERT_URL).executeBatch(batch).map(id);
        }))
        .compose(id -> view(id, null));
  }

  Future<JsonObject> get(JsonObject req) {
    return view(watchId(req), keyOf(req));
  }

  Future<JsonObject> list(JsonObject req) {
    int limit = ListingParams.limit(req, 20);
    OffsetDateTime afterAt = null;
    String afterId = null;
    if (req.getString("after") != null) {
      Cursors.TimeAndId cursor = Cursors.decodeTimeAndId(req.getString("after"), "w1:", "this service");
      afterAt = cursor.at();
      afterId = cursor.id();
    }
    return pool.preparedQuery(LIST).execute(Tuple.of(afterAt, afterId, limit + 1, keyOf(req)))
        .compose(rows -> withUrls(pool, rows, false).map(items -> {
          String next = null;
          if (items.size() > limit) {
            items.remove(limit);
            JsonObject last = items.get(limit - 1);
            next = Cursors.encodeTimeAndId("w1:", last.getString("createdCursor"), last.getString("id"));
          }
          JsonArray out = new JsonArray();
          items.forEach(w -> out.add(shown(w)));
          return new JsonObject().put("items", out).put("next", next);
        }));
  }

  Future<JsonObject> delete(JsonObject req) {
    String id = watchId(req);
    return pool.preparedQuery(DELETE).execute(Tuple.of(id, keyOf(req))).map(rows -> {
      if (rows.size() == 0) {
        throw Failure.NOT_FOUND.exception("there is no watch " + id);
      }
      return new JsonObject().put("deleted", true);
    });
  }

  Future<JsonObject> changes(JsonObject req) {
    String id = watchId(req);
    int limit = ListingParams.limit(req, 20);
    Long after = req.getString("after") == null ? null : Cursors.decodeId(req.getString("after"), "c1:", "this service");
    Tuple args = Tuple.of(id, req.getString("url"), after, limit + 1);
    return view(id, keyOf(req)).compose(watch -> pool.preparedQuery(CHANGES).execute(args)).map(rows -> {
      JsonArray items = new JsonArray();
      String next = null;
      for (Row r : rows) {
        if (items.size() == limit) {
          next = Cursors.encodeId("c1:", items.getJsonObject(limit - 1).getLong("id"));
          break;
        }
        items.add(new JsonObject().put("id", r.getLong("id")).put("url", r.getString("url"))
            .put("changeStatus", r.getString("change_status")).put("status", r.getInteger("status"))
            .put("distance", r.getInteger("distance")).put("diff", r.getString("diff"))
            .put("diffTruncated", r.getBoolean("diff_truncated"))
            .put("addedLinks", r.getJsonArray("added_links")).put("removedLinks", r.getJsonArray("removed_links"))
            .put("checkedAt", r.getOffsetDateTime("checked_at").toInstant()).put("pageId", r.getLong("page_id")));
      }
      return new JsonObject().put("items", items).put("next", next);
    });
  }

  /**
   * {@code {"owner", "leaseMs", "id", "keyName"?}}: that watch of that key, due or not (404 unknown or another key's,
   * 409 while another run holds it); or
   * {@code {"owner", "leaseMs", "limit"}}: due watches. Each with its spec unmasked, its lease token, and each URL's
   * stored baseline (text, SimHash, links) and validators.
   */
  Future<JsonObject> claim(JsonObject req) {
    String owner = req.getString("owner");
    long leaseMs = req.getLong("leaseMs");
    Future<RowSet<Row>> claimed;
    if (req.getValue("id") != null) {
      String id = watchId(req);
      String key = keyOf(req);
      claimed = pool.preparedQuery(CLAIM_ONE).execute(Tuple.of(owner, leaseMs, id, key)).compose(rows -> rows.size() > 0
          ? Future.succeededFuture(rows)
          : view(id, key).compose(exists -> Future.failedFuture(Failure.CONFLICT.exception("watch " + id
              + " is being run by a node now; ask again once that run is recorded"))));
    } else {
      claimed = pool.preparedQuery(CLAIM_DUE).execute(Tuple.of(owner, leaseMs, req.getInteger("limit", 1)));
    }
    return claimed.compose(rows -> withUrls(pool, rows, true)).map(items -> new JsonObject().put("items",
        new JsonArray(new ArrayList<Object>(items))));
  }

  /** {@code {"id", "leaseToken", "leaseMs"}} -> {@code {"renewed"}}: extends a run's lease, under its token only. */
  Future<JsonObject> renew(JsonObject req) {
    String id = watchId(req);
    java.util.UUID token = Fields.uuid(req, "leaseToken", "a lease token");
    Long leaseMs = req.getLong("leaseMs");
    if (token == null || leaseMs == null || leaseMs < 1) {
      return Future.failedFuture(Failure.INVALID.exception("leaseToken and leaseMs (positive) are required"));
    }
    return pool.preparedQuery(RENEW).execute(Tuple.of(id, token, leaseMs))
        .map(rows -> new JsonObject().put("renewed", rows.rowCount() > 0));
  }

  /**
   * Records a run under its lease (409 lease-lost otherwise): the URLs' state, the versions, the next check. A site
   * watch's run also forgets URLs ({@code "forget": [position]}) and adds those it reached first (a state with
   * {@code "added": true}, its {@code url} and a position no URL of the watch has).
   */
  Future<JsonObject> record(JsonObject req) {
    String id = watchId(req);
    String token = req.getString("leaseToken");
    int maxVersions = req.getInteger("maxVersions");
    JsonArray urls = req.getJsonArray("urls");
    JsonArray changes = req.getJsonArray("changes", new JsonArray());
    OffsetDateTime nextAt = req.getInstant("nextAt") == null ? null
        : req.getInstant("nextAt").atOffset(java.time.ZoneOffset.UTC);
    return pool.withTransaction(tx -> tx.preparedQuery(RECORD).execute(Tuple.of(id, token,
            req.getInteger("intervalSeconds"), nextAt))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(Failure.LEASE_LOST.exception("the run of watch " + id
                + " outlived its lease: another node runs it now"));
          }
          List<Tuple> forget = new ArrayList<>();
          req.getJsonArray("forget", new JsonArray()).forEach(p -> forget.add(Tuple.of(id, p)));
          List<Tuple> added = new ArrayList<>();
          List<Tuple> batch = new ArrayList<>();
          for (Object o : urls) {
            JsonObject u = (JsonObject) o;
            boolean replaces = u.getBoolean("replaces", false);
            if (u.getBoolean("added", false)) {
              added.add(Tuple.of(id, u.getInteger("position"), u.getString("url")));
            }
            batch.add(Tuple.tuple().addValue(id).addValue(u.getInteger("position"))
                .addValue(u.getString("changeStatus")).addValue(u.getInteger("status")).addValue(u.getString("error"))
                .addValue(u.getString("etag")).addValue(u.getString("lastModified")).addValue(replaces)
                .addValue(u.getString("text")).addValue(u.getLong("simhash"))
                .addValue(u.getJsonArray("links")));
          }
          return (forget.isEmpty() ? Future.succeededFuture() : tx.preparedQuery(FORGET_URL).executeBatch(forget))
              .compose(f -> added.isEmpty() ? Future.succeededFuture() : tx.preparedQuery(INSERT_URL).executeBatch(added))
              .compose(a -> batch.isEmpty() ? Future.succeededFuture() : tx.preparedQuery(RECORD_URL).executeBatch(batch));
        })
        .compose(v -> {
          if (changes.isEmpty()) {
            return Future.succeededFuture();
          }
          List<Tuple> inserts = new ArrayList<>();
          List<Tuple> retains = new ArrayList<>();
          for (Object o : changes) {
            JsonObject c = (JsonObject) o;
            inserts.add(Tuple.tuple().addValue(id).addValue(c.getString("url")).addValue(c.getString("changeStatus"))
                .addValue(c.getInteger("status")).addValue(c.getInteger("distance")).addValue(c.getString("diff"))
                .addValue(c.getBoolean("diffTruncated", false))
                .addValue(c.getJsonArray("addedLinks", new JsonArray()))
                .addValue(c.getJsonArray("removedLinks", new JsonArray())).addValue(c.getLong("pageId")));
            retains.add(Tuple.of(id, c.getString("url"), maxVersions));
          }
          return tx.preparedQuery(INSERT_CHANGE).executeBatch(inserts)
              .compose(r -> tx.preparedQuery(RETAIN).executeBatch(retains));
        }))
        .compose(v -> view(id, null));
  }

  /**
   * The watch as clients see it: the webhook's secrets masked, and each URL's last state. {@code key}: the key it
   * must belong to (another key's watch is a 404, as one that does not exist), null for the service's own reads.
   */
  private Future<JsonObject> view(String id, String key) {
    return pool.preparedQuery(BY_ID).execute(Tuple.of(id, key)).compose(rows -> {
      if (rows.size() == 0) {
        return Future.failedFuture(Failure.NOT_FOUND.exception("there is no watch " + id));
      }
      return withUrls(pool, rows, false).map(items -> shown(items.get(0)));
    });
  }

  private static JsonObject shown(JsonObject watch) {
    watch.remove("createdCursor");
    JsonObject spec = (JsonObject) watch.remove("spec");
    JsonObject masked = CrawlJob.withoutSecrets(spec);
    for (String field : new String[] {"crawl", "minIntervalSeconds", "maxIntervalSeconds", "cron", "include", "exclude",
        "threshold", "formats", "webhook"}) {
      watch.put(field, masked.getValue(field));
    }
    if (watch.getValue("formats") == null) {
      watch.put("formats", new JsonArray(List.copyOf(ContentFormats.DEFAULT))); // a watch made before V17's release
    }
    if (masked.getString("cron") != null) {
      watch.put("intervalSeconds", null); // a cron watch has no interval: the cron says when it runs
    }
    return watch;
  }

  /** The watches of {@code rows}, in order, each with its URLs; {@code forRun}: unmasked, with baselines. */
  private static Future<List<JsonObject>> withUrls(SqlClient db, RowSet<Row> rows, boolean forRun) {
    Map<String, JsonObject> watches = new LinkedHashMap<>();
    for (Row r : rows) {
      OffsetDateTime created = r.getOffsetDateTime("created_at");
      OffsetDateTime leaseUntil = r.getOffsetDateTime("lease_until");
      OffsetDateTime lastRun = r.getOffsetDateTime("last_run_at");
      JsonObject w = new JsonObject().put("id", r.getString("id")).put("spec", r.getJsonObject("spec"))
          .put("intervalSeconds", r.getInteger("interval_seconds"))
          .put("nextAt", r.getOffsetDateTime("next_at").toInstant())
          .put("running", leaseUntil != null && leaseUntil.isAfter(OffsetDateTime.now()))
          .put("runs", r.getInteger("runs")).put("lastRunAt", lastRun == null ? null : lastRun.toInstant())
          .put("createdAt", created.toInstant()).put("createdCursor", created.toString())
          .put("urls", new JsonArray());
      if (forRun) {
        w.put("leaseToken", r.getString("lease_token")).put("keyName", r.getString("key_name"));
      }
      watches.put(w.getString("id"), w);
    }
    if (watches.isEmpty()) {
      return Future.succeededFuture(new ArrayList<>());
    }
    java.util.UUID[] ids = watches.keySet().stream().map(java.util.UUID::fromString).toArray(java.util.UUID[]::new);
    return db.preparedQuery(forRun ? URLS_FOR_RUN : URLS).execute(Tuple.of((Object) ids)).map(urls -> {
      for (Row u : urls) {
        OffsetDateTime checked = u.getOffsetDateTime("checked_at");
        OffsetDateTime changed = u.getOffsetDateTime("changed_at");
        JsonObject url = new JsonObject().put("url", u.getString("url"))
            .put("changeStatus", u.getString("change_status")).put("status", u.getInteger("status"))
            .put("error", u.getString("error"))
            .put("checkedAt", checked == null ? null : checked.toInstant())
            .put("changedAt", changed == null ? null : changed.toInstant());
        if (forRun) {
          url.put("position", u.getInteger("position")).put("etag", u.getString("etag"))
              .put("lastModified", u.getString("last_modified")).put("text", u.getString("text"))
              .put("simhash", u.getLong("simhash")).put("links", u.getJsonArray("links"));
        }
        watches.get(u.getString("watch_id")).getJsonArray("urls").add(url);
      }
      return new ArrayList<>(watches.values());
    });
  }

  /**
   * Whose watches a request may see: those of its {@code keyName}, or, without one (no keys configured), those
   * made without a key. The API and the bridge set it from the key the caller authenticated with.
   */
  private static String keyOf(JsonObject req) {
    return req.getString("keyName") == null ? "" : req.getString("keyName");
  }

  /** A watch id; anything that is not a UUID names no watch (404), as an unknown one. */
  static String watchId(JsonObject req) {
    return ListingParams.id(req, "watch");
  }
}
