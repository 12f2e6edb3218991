package io.fetchbus.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.support.Poll;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.Scrape;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The frontier's contract over the bus, driven by hand as two crawl nodes would: leases fence completions, so a
 * node that paused past its lease cannot store a page another node is now responsible for.
 */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class FrontierTest extends TestBase {
  private static final String URL = "http://example.com/a";

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    // The service's own crawl loop must stay out of the way: it polls and reaps only once an hour here.
    ServiceUnderTest.fresh(vertx, new JsonObject().put("crawl", new JsonObject().put("pollMs", 3_600_000).put("leaseMs", 3_600_000)))
        .onSuccess(f -> fb = f).onComplete(ctx.succeedingThenComplete());
  }

  private Future<JsonObject> request(String address, JsonObject body) {
    return vertx.eventBus().<JsonObject>request(address, body).map(Message::body);
  }

  private Future<String> newJob() {
    JsonObject seed = new JsonObject().put("url", URL).put("key", URL).put("host", "example.com");
    return request(Bus.JOBS_CREATE, new JsonObject().put("kind", "batch").put("spec", new JsonObject()).put("limit", 5)
            .put("seeds", new JsonArray().add(seed)))
        .map(created -> created.getJsonObject("job").getString("id"));
  }

  private Future<JsonObject> claim(String owner, long leaseMs) {
    return request(Bus.FRONTIER_CLAIM, new JsonObject().put("owner", owner).put("max", 10).put("leaseMs", leaseMs))
        .map(r -> r.getJsonArray("entries").isEmpty() ? null : r.getJsonArray("entries").getJsonObject(0));
  }

  /** Reaps until the expired lease has gone back (it expires 1 ms after the claim). */
  private Future<Void> reapUntilReturned() {
    return request(Bus.FRONTIER_REAP, new JsonObject().put("maxAttempts", 5))
        .compose(r -> r.getInteger("reaped") == 1 ? Future.<Void>succeededFuture()
            : vertx.timer(20).compose(t -> reapUntilReturned()));
  }

  private static JsonObject complete(JsonObject lease) {
    JsonObject page = new JsonObject().put("url", URL).put("finalUrl", URL).put("status", 200)
        .put("contentType", "text/plain").put("body", Buffer.buffer("hello"))
        .put("sha256", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        .put("fetchedAt", Instant.now());
    return new JsonObject().put("jobId", lease.getString("jobId")).put("urlKey", lease.getString("urlKey"))
        .put("token", lease.getString("token")).put("page", page).put("links", new JsonArray());
  }

  @Test
  @DisplayName("a node whose lease expired and was taken over cannot complete the entry; the new holder can, once")
  void leaseFencing(VertxTestContext ctx) {
    newJob()
        .compose(job -> claim("node-a", 1))
        .compose(first -> reapUntilReturned().compose(v -> claim("node-b", 60_000)).compose(second ->
            request(Bus.FRONTIER_COMPLETE, complete(first)).transform(stale -> {
              ctx.verify(() -> {
                assertThat(second.getString("token")).isNotEqualTo(first.getString("token"));
                assertThat(second.getInteger("attempts")).isEqualTo(2);
                assertThat(stale.failed()).isTrue();
                assertThat(Failure.LEASE_LOST.is(stale.cause())).as(String.valueOf(stale.cause())).isTrue();
              });
              return TestDatabase.count(vertx, "SELECT count(*) FROM pages");
            }).compose(pagesAfterStale -> request(Bus.FRONTIER_COMPLETE, complete(second))
                .compose(done -> request(Bus.FRONTIER_COMPLETE, complete(second)).transform(again ->
                    TestDatabase.count(vertx, "SELECT count(*) FROM pages").map(pages -> {
                      ctx.verify(() -> {
                        assertThat(pagesAfterStale).isZero();
                        assertThat(done.getJsonObject("page").getInteger("status")).isEqualTo(200);
                        assertThat(Failure.LEASE_LOST.is(again.cause())).isTrue(); // completing twice stores once
                        assertThat(pages).isEqualTo(1);
                      });
                      return null;
                    }))))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a completion adds its page's links one level below the entry and marks it done in one step; links "
      + "without a depth are refused whole for an entry without a page")
  void completionAddsLinks(VertxTestContext ctx) {
    JsonArray links = new JsonArray()
        .add(new JsonObject().put("url", SITE + "/").put("key", SITE + "/").put("host", "example.com")) // the entry itself: kept once
        .add(new JsonObject().put("url", "http://example.com/b").put("key", "http://example.com/b").put("host", "example.com"))
        .add(new JsonObject().put("url", "http://other.example/").put("key", "http://other.example/").put("host", "other.example"));
    newCrawl(2).compose(job -> claim("node-a", 60_000).compose(lease ->
            request(Bus.FRONTIER_COMPLETE, complete(lease).putNull("page").put("links", links)).transform(refused ->
                // the lease is untouched by the refusal: the same token completes the entry
                request(Bus.FRONTIER_COMPLETE, complete(lease).put("links", links))
                    .compose(done -> request(Bus.CRAWL_STATUS, new JsonObject().put("id", job)))
                    .compose(status -> TestDatabase.count(vertx, "SELECT count(*) FROM frontier WHERE depth = 1 AND state = 'queued'")
                        .compose(deeper -> TestDatabase.count(vertx, "SELECT count(*) FROM crawl_hosts").map(hosts -> {
                          ctx.verify(() -> {
                            assertThat(Failure.INVALID.is(refused.cause())).as(String.valueOf(refused.cause())).isTrue();
                            assertThat(refused.cause()).hasMessageContaining("linkDepth");
                            assertThat(status.getInteger("completed")).isEqualTo(1);
                            assertThat(status.getInteger("queued")).isEqualTo(2);
                            assertThat(deeper).isEqualTo(2);
                            assertThat(hosts).isEqualTo(2);
                          });
                          return null;
                        }))))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a shorter path found later lowers the depth of entries queued, leased and done; a done one's stored "
      + "links are followed from there, recursively, within maxDepth; no page is stored twice; an ended job keeps no links")
  void shorterPathLowersDepths(VertxTestContext ctx) {
    // maxDepth 4. / links /a and /l1; /l1 -> /l2 -> /x (depth 3 that way); /a -> /x (depth 2 this way, found last);
    // /x -> /y, /w; /y -> /z; /w -> /v. Found the long way, /w is at maxDepth and its link /v is not followed.
    Map<String, JsonObject> leases = new HashMap<>();
    newCrawl(4)
        .compose(job -> claimInto(leases, 1).compose(v -> completeWith(leases.get("/"), "/a", "/l1"))
            .compose(v -> claimInto(leases, 2)).compose(v -> completeWith(leases.get("/l1"), "/l2")) // /a stays leased
            .compose(v -> claimInto(leases, 1)).compose(v -> completeWith(leases.get("/l2"), "/x"))
            .compose(v -> claimInto(leases, 1)).compose(v -> completeWith(leases.get("/x"), "/y", "/w"))
            .compose(v -> claimInto(leases, 2)).compose(v -> completeWith(leases.get("/w"), "/v")) // /y stays leased
            .compose(v -> depths(job))
            .compose(before -> completeWith(leases.get("/a"), "/x") // the short path: /x 3 -> 2, /w and /y 4 -> 3
                .compose(v -> completeWith(leases.get("/y"), "/z")) // leased at depth 4, now at 3: /z is followed
                .compose(v -> depths(job))
                .compose(after -> request(Bus.CRAWL_STATUS, new JsonObject().put("id", job))
                    .compose(status -> Future.all(
                        TestDatabase.count(vertx, "SELECT count(*) FROM pages WHERE job_id = '" + job + "'"),
                        TestDatabase.count(vertx, "SELECT count(DISTINCT url) FROM pages WHERE job_id = '" + job + "'"),
                        TestDatabase.count(vertx, "SELECT count(*) FROM frontier_links WHERE job_id = '" + job + "'")))
                    .compose(counts -> request(Bus.CRAWL_CANCEL, new JsonObject().put("id", job))
                        .compose(cancelled -> TestDatabase.count(vertx, "SELECT count(*) FROM frontier_links"))
                        .map(linksAfterEnd -> {
                          ctx.verify(() -> {
                            assertThat(before).containsEntry("/x", 3).containsEntry("/w", 4).containsEntry("/y", 4)
                                .doesNotContainKey("/v");
                            assertThat(after).isEqualTo(Map.of("/", 0, "/a", 1, "/l1", 1, "/l2", 2, "/x", 2, "/y", 3,
                                "/w", 3, "/z", 4, "/v", 4));
                            assertThat(counts.<Long>resultAt(0)).as("pages").isEqualTo(7);
                            assertThat(counts.<Long>resultAt(1)).as("distinct URLs").isEqualTo(7);
                            assertThat(counts.<Long>resultAt(2)).as("links kept: /l2, /x, /w, /y").isEqualTo(4);
                            assertThat(linksAfterEnd).isZero();
                          });
                          return null;
                        }))))
            .compose(v -> request(Bus.CRAWL_STATUS, new JsonObject().put("id", job))))
        .onComplete(ctx.succeeding(status -> ctx.verify(() -> {
          assertThat(status.getInteger("completed")).isEqualTo(7);
          assertThat(status.getInteger("skipped")).isEqualTo(2); // /z and /v, queued when the job was cancelled
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("completions of one job that arrive while one of its completions runs are written together, and end as "
      + "one after the other would: a shallower page's link lowers a deeper one of the batch before that one's links "
      + "go in; a lost lease, a completion sent twice and a fetch id stored before each fail alone")
  void completionsInABatch(VertxTestContext ctx) {
    // maxDepth 4. / -> /a, /l1; /l1 -> /l2; /l2 -> /x, /s, /t, /u: /x is at depth 3 the long way. Then, together:
    // /t alone (it finds the job locked by this test and holds the others back), then /a -> /x (the short path: /x
    // 3 -> 2) and /x -> /y in one batch, with /a sent twice, /s under a token that is not its lease, and /u with the
    // fetch id of a page stored before.
    Map<String, JsonObject> leases = new HashMap<>();
    Pool locker = testPool(4);
    newCrawl(4)
        .compose(job -> claimInto(leases, 1).compose(v -> completeWith(leases.get("/"), "/a", "/l1"))
            .compose(v -> claimInto(leases, 2)).compose(v -> completeWith(leases.get("/l1"), "/l2")) // /a stays leased
            .compose(v -> claimInto(leases, 1)).compose(v -> completeWith(leases.get("/l2"), "/x", "/s", "/t", "/u"))
            .compose(v -> claimInto(leases, 4))
            .compose(v -> TestDatabase.rows(vertx, "SELECT fetch_id::text AS id FROM pages LIMIT 1"))
            .compose(stored -> locker.getConnection().compose(conn -> conn.begin().compose(tx -> conn
                .query("SELECT 1 FROM crawl_jobs WHERE id = '" + job + "' FOR UPDATE").execute().compose(locked -> {
                  Future<JsonObject> alone = completeWith(leases.get("/t"));
                  Future<JsonObject> a = completeWith(leases.get("/a"), "/x");
                  Future<JsonObject> x = completeWith(leases.get("/x"), "/y");
                  Future<JsonObject> again = completeWith(leases.get("/a"), "/x");
                  Future<JsonObject> stale = completeWith(leases.get("/s").copy().put("token", UUID.randomUUID().toString()));
                  JsonObject reused = complete(leases.get("/u"));
                  reused.getJsonObject("page").put("url", leases.get("/u").getString("url"))
                      .put("fetchId", stored.get(0).getString("id"));
                  Future<JsonObject> conflict = request(Bus.FRONTIER_COMPLETE, reused);
                  // Every completion is on the store's queue once the first waits for the job's lock here.
                  return TestDatabase.someoneWaitsForALock(vertx)
                      .compose(w -> tx.commit())
                      .compose(c -> Future.join(alone, a, x, again, stale, conflict).otherwiseEmpty())
                      .compose(all -> depths(job).compose(after -> TestDatabase.count(vertx,
                              "SELECT count(*) FROM pages WHERE job_id = '" + job + "'").compose(pages -> fb.get("/metrics")
                              .map(metrics -> {
                                Scrape scrape = Scrape.parse(metrics.bodyAsString());
                                ctx.verify(() -> {
                                  assertThat(alone.succeeded()).as(String.valueOf(alone.cause())).isTrue();
                                  assertThat(a.succeeded()).as(String.valueOf(a.cause())).isTrue();
                                  assertThat(x.succeeded()).as(String.valueOf(x.cause())).isTrue();
                                  assertThat(Failure.LEASE_LOST.is(again.cause())).as(String.valueOf(again.cause())).isTrue();
                                  assertThat(Failure.LEASE_LOST.is(stale.cause())).as(String.valueOf(stale.cause())).isTrue();
                                  assertThat(Failure.CONFLICT.is(conflict.cause())).as(String.valueOf(conflict.cause())).isTrue();
                                  assertThat(after).containsEntry("/x", 2).containsEntry("/y", 3);
                                  assertThat(pages).as("/, /l1, /l2, /t, /a, /x").isEqualTo(6);
                                  assertThat(scrape.value("fetchbus_store_crawl_group_commits_total")).isPositive();
                                  assertThat(scrape.value("fetchbus_store_crawl_group_committed_completions_total"))
                                      .as("/a, /x, /s and /u").isGreaterThanOrEqualTo(4);
                                });
                                return null;
                              }))));
                })).eventually(conn::close))))
        .eventually(locker::close)
        .onComplete(ctx.succeedingThenComplete());
  }

  /** The body's row of contents, inserted in {@code conn}'s open transaction: a completion with it waits for it. */
  private static Future<?> insertBody(SqlConnection conn, Buffer body) {
    return conn.preparedQuery("INSERT INTO contents (sha256, body, bytes) VALUES ($1, $2, $3)")
        .execute(Tuple.of(sha256(body), body, body.length()));
  }

  /** {@code completion} with {@code body} as its page's body. */
  private static JsonObject withBody(JsonObject completion, Buffer body) {
    completion.getJsonObject("page").put("body", body).put("sha256", sha256(body));
    return completion;
  }

  @Test
  @DisplayName("a lease lost after a batch's pages went in, before the batch takes the job's lock, rolls the batch "
      + "back: the others are written again one by one, and nothing of the lost one is stored")
  void leaseLostWhileTheBatchWrites(VertxTestContext ctx) {
    // / -> /t, /a, /b. /t goes alone and waits for the job's lock, held here, while /a and /b queue behind it; they
    // then go as one batch, which waits for /a's body (a row of contents this test is inserting too) while the test
    // takes /b's lease: after the batch read its leases, before crawl_complete_pages checks them again.
    Map<String, JsonObject> leases = new HashMap<>();
    Buffer bodyOfA = Buffer.buffer("the body of /a alone");
    Pool locker = testPool(2);
    newCrawl(2)
        .compose(job -> claimInto(leases, 1).compose(v -> completeWith(leases.get("/"), "/t", "/a", "/b"))
            .compose(v -> claimInto(leases, 3))
            .compose(v -> locker.getConnection()).compose(jobLock -> locker.getConnection().compose(bodyLock -> {
              JsonObject withOwnBody = withBody(completionWith(leases.get("/a")), bodyOfA);
              return jobLock.begin().compose(jobTx -> bodyLock.begin().compose(bodyTx -> jobLock
                  .query("SELECT 1 FROM crawl_jobs WHERE id = '" + job + "' FOR UPDATE").execute()
                  .compose(locked -> insertBody(bodyLock, bodyOfA))
                  .compose(inserted -> {
                    Future<JsonObject> alone = completeWith(leases.get("/t"));
                    Future<JsonObject> a = request(Bus.FRONTIER_COMPLETE, withOwnBody);
                    Future<JsonObject> b = completeWith(leases.get("/b"));
                    return TestDatabase.someoneWaitsForALock(vertx) // /t, for the job
                        .compose(w -> jobTx.commit()).compose(c -> alone)
                        .compose(t -> TestDatabase.someoneWaitsForALock(vertx)) // the batch, for /a's body
                        .compose(w -> bodyLock.query("UPDATE frontier SET lease_token = gen_random_uuid() WHERE job_id = '"
                            + job + "' AND url_key = '" + SITE + "/b'").execute())
                        .compose(taken -> bodyTx.commit())
                        .compose(c -> Future.join(a, b).otherwiseEmpty())
                        .compose(all -> TestDatabase.rows(vertx, "SELECT url FROM pages WHERE job_id = '" + job + "'"))
                        .compose(rows -> TestDatabase.rows(vertx, "SELECT url, state FROM frontier WHERE job_id = '"
                            + job + "'").map(entries -> {
                          List<String> stored = new ArrayList<>();
                          rows.forEach(r -> stored.add(r.getString("url").substring(SITE.length())));
                          Map<String, String> states = new HashMap<>();
                          entries.forEach(e -> states.put(e.getString("url").substring(SITE.length()), e.getString("state")));
                          ctx.verify(() -> {
                            assertThat(a.succeeded()).as(String.valueOf(a.cause())).isTrue();
                            assertThat(Failure.LEASE_LOST.is(b.cause())).as(String.valueOf(b.cause())).isTrue();
                            assertThat(stored).containsExactlyInAnyOrder("/", "/t", "/a");
                            assertThat(states).containsEntry("/a", "done").containsEntry("/b", "leased"); // by its new holder
                          });
                          return null;
                        }));
                  })).eventually(bodyLock::close)).eventually(jobLock::close);
            })))
        .eventually(locker::close)
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a completion waiting for its body's row holds no lock of its job: the page and body go in before the "
      + "job's lock is taken, so no two completions of a job on two stores can wait for each other")
  void aCompletionWritesItsBodyBeforeTheJobsLock(VertxTestContext ctx) {
    Map<String, JsonObject> leases = new HashMap<>();
    Buffer body = Buffer.buffer("a body this test is inserting too");
    String sha = sha256(body);
    Pool own = testPool(2);
    newCrawl(2)
        .compose(job -> claimInto(leases, 1).compose(v -> own.getConnection()).compose(bodyLock -> bodyLock.begin()
            .compose(bodyTx -> insertBody(bodyLock, body)
                .compose(inserted -> {
                  JsonObject req = withBody(completionWith(leases.get("/"), "/a"), body);
                  Future<JsonObject> done = request(Bus.FRONTIER_COMPLETE, req); // alone: one statement
                  return TestDatabase.someoneWaitsForALock(vertx) // the completion, for the body's row
                      .compose(w -> own.withTransaction(tx -> tx.query("SELECT 1 FROM crawl_jobs WHERE id = '" + job
                          + "' FOR NO KEY UPDATE NOWAIT").execute()))
                      .transform(jobLock -> bodyTx.commit().compose(c -> done).map(page -> {
                        ctx.verify(() -> {
                          assertThat(jobLock.succeeded()).as("the job's lock is free: " + jobLock.cause()).isTrue();
                          assertThat(page.getJsonObject("page").getString("sha256")).isEqualTo(sha);
                        });
                        return null;
                      }));
                }))
            .eventually(bodyLock::close)))
        .eventually(own::close)
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("completing entries never reads the frontier from end to end, not even a frontier so small that a "
      + "sequential scan is the cheaper plan (the plan a crawl's connections would keep as it grows)")
  void completionsLookEntriesUp(VertxTestContext ctx) {
    Map<String, JsonObject> leases = new HashMap<>();
    Pool own = testPool(1);
    newCrawl(3)
        .compose(job -> claimInto(leases, 1).compose(v -> completeWith(leases.get("/"), "/a", "/b"))
            .compose(v -> claimInto(leases, 2))
            // Statistics of a frontier of a few rows: a sequential scan is then the cheaper plan of every lookup.
            .compose(v -> own.query("ANALYZE frontier").execute())
            .compose(v -> own.getConnection()).compose(conn -> conn.begin().compose(tx -> {
              // Rolled back: the test's own call, on its own connection, so that the counts are of this call only.
              String a = SITE + "/a";
              String b = SITE + "/b";
              return conn.preparedQuery(CrawlSql.COMPLETE_PAGES).execute(Tuple.tuple().addValue(job)
                      .addValue(new String[] {a, b})
                      .addValue(new UUID[] {UUID.fromString(leases.get("/a").getString("token")),
                          UUID.fromString(leases.get("/b").getString("token"))})
                      .addValue(new Long[] {1L, 2L}).addValue(new Integer[] {1, 2})
                      .addValue(new String[] {SITE + "/c", SITE + "/a"}).addValue(new String[] {SITE + "/c", SITE + "/a"})
                      .addValue(new String[] {"example.com", "example.com"}))
                  .compose(done -> conn.query("SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables "
                      + "WHERE relname = 'frontier'").execute())
                  .map(rows -> {
                    Row counts = rows.iterator().next();
                    ctx.verify(() -> {
                      assertThat(counts.getLong("seq_scan")).as("sequential scans of the frontier").isZero();
                      assertThat(counts.getLong("idx_scan")).as("index scans of the frontier").isPositive();
                    });
                    return null;
                  })
                  .eventually(tx::rollback);
            }).eventually(conn::close)))
        .eventually(own::close)
        .onComplete(ctx.succeedingThenComplete());
  }

  /** Connections of the test's own to the service's database, to hold its locks and read its counts. */
  private Pool testPool(int connections) {
    return PgBuilder.pool().with(new PoolOptions().setMaxSize(connections)).connectingTo(TestDatabase.connectOptions())
        .using(vertx).build();
  }

  private static String sha256(Buffer body) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body.getBytes()));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static final String SITE = "http://example.com";

  private Future<String> newCrawl(int maxDepth) {
    JsonObject seed = new JsonObject().put("url", SITE + "/").put("key", SITE + "/").put("host", "example.com");
    return request(Bus.JOBS_CREATE, new JsonObject().put("kind", "crawl").put("spec", new JsonObject().put("maxDepth", maxDepth))
            .put("limit", 100).put("seeds", new JsonArray().add(seed)))
        .map(created -> created.getJsonObject("job").getString("id"));
  }

  /** Claims what is due, which must be {@code n} entries, into {@code leases} by path. */
  private Future<Void> claimInto(Map<String, JsonObject> leases, int n) {
    return request(Bus.FRONTIER_CLAIM, new JsonObject().put("owner", "node-a").put("max", 10).put("leaseMs", 60_000))
        .map(r -> {
          JsonArray entries = r.getJsonArray("entries");
          assertThat(entries).hasSize(n);
          entries.forEach(e -> leases.put(((JsonObject) e).getString("url").substring(SITE.length()), (JsonObject) e));
          return null;
        });
  }

  /** Completes the leased entry with a page of its own URL and links to {@code paths}. */
  private Future<JsonObject> completeWith(JsonObject lease, String... paths) {
    return request(Bus.FRONTIER_COMPLETE, completionWith(lease, paths));
  }

  private static JsonObject completionWith(JsonObject lease, String... paths) {
    JsonArray links = new JsonArray();
    for (String path : paths) {
      links.add(new JsonObject().put("url", SITE + path).put("key", SITE + path).put("host", "example.com"));
    }
    JsonObject req = complete(lease).put("links", links);
    req.getJsonObject("page").put("url", lease.getString("url")).put("finalUrl", lease.getString("url"));
    return req;
  }

  private Future<Map<String, Integer>> depths(String job) {
    return TestDatabase.rows(vertx, "SELECT url, depth FROM frontier WHERE job_id = '" + job + "'").map(rows -> {
      Map<String, Integer> depths = new HashMap<>();
      rows.forEach(r -> depths.put(r.getString("url").substring(SITE.length()), r.getInteger("depth")));
      return depths;
    });
  }

  @Test
  @DisplayName("a node renews the leases of its fetches in flight: a renewed lease is extended, so it is not reaped")
  void renew(VertxTestContext ctx) {
    newJob()
        .compose(job -> claim("node-a", 500))
        .compose(lease -> request(Bus.FRONTIER_RENEW, new JsonObject().put("owner", "node-a").put("leaseMs", 60_000)
            .put("tokens", new JsonArray().add(lease.getString("token")))))
        .compose(renewed -> TestDatabase.count(vertx,
                "SELECT count(*) FROM frontier WHERE state = 'leased' AND lease_until > now() + interval '30 seconds'")
            .compose(extended -> request(Bus.FRONTIER_REAP, new JsonObject().put("maxAttempts", 5)).map(reaped -> {
              ctx.verify(() -> {
                assertThat(renewed.getInteger("renewed")).isEqualTo(1);
                assertThat(extended).isEqualTo(1);
                assertThat(reaped.getInteger("reaped")).isZero();
              });
              return null;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a stopping node releases its leases at once, without counting the attempt")
  void release(VertxTestContext ctx) {
    newJob()
        .compose(job -> claim("node-a", 60_000).compose(lease ->
            request(Bus.FRONTIER_RELEASE, new JsonObject().put("owner", "node-a")).compose(released ->
                claim("node-b", 60_000).map(again -> {
                  ctx.verify(() -> {
                    assertThat(released.getInteger("released")).isEqualTo(1);
                    assertThat(again.getString("urlKey")).isEqualTo(lease.getString("urlKey"));
                    assertThat(again.getInteger("attempts")).isEqualTo(1);
                  });
                  return null;
                }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("the leases of a node that left the cluster are released at once, the attempt counted, and only its "
      + "own: the node is fenced, its late result refused")
  void releaseOfANodeThatLeft(VertxTestContext ctx) {
    JsonArray seeds = new JsonArray();
    for (String path : new String[] {"/a", "/b"}) {
      seeds.add(new JsonObject().put("url", SITE + path).put("key", SITE + path).put("host", "example.com"));
    }
    request(Bus.JOBS_CREATE, new JsonObject().put("kind", "batch").put("spec", new JsonObject()).put("limit", 5)
            .put("seeds", seeds))
        .compose(created -> claimOne("n1/crawl-x"))
        // n10 shares n1's first characters: its leases are not n1's.
        .compose(gone -> claimOne("n10/crawl-y").compose(kept ->
            request(Bus.FRONTIER_RELEASE, new JsonObject().put("node", "n1").put("maxAttempts", 5)).compose(released ->
                request(Bus.FRONTIER_COMPLETE, complete(gone).put("urlKey", gone.getString("urlKey"))).transform(late ->
                    claimOne("n10/crawl-y").compose(again -> request(Bus.FRONTIER_RELEASE,
                            new JsonObject().put("node", "n1'; --")).transform(bad -> {
                      ctx.verify(() -> {
                        assertThat(released.getInteger("released")).isEqualTo(1);
                        assertThat(late.failed()).as("a completion under the released lease").isTrue();
                        assertThat(Failure.LEASE_LOST.is(late.cause())).isTrue();
                        assertThat(again.getString("urlKey")).isEqualTo(gone.getString("urlKey"));
                        assertThat(again.getInteger("attempts")).as("the attempt of the node that left counts").isEqualTo(2);
                        assertThat(bad.failed()).isTrue();
                        assertThat(Failure.INVALID.is(bad.cause())).isTrue();
                      });
                      return TestDatabase.count(vertx, "SELECT count(*) FROM frontier WHERE state = 'leased' "
                          + "AND lease_owner = 'n10/crawl-y'").map(leased -> {
                            ctx.verify(() -> assertThat(leased).as("leases of the other node").isEqualTo(2));
                            return null;
                          });
                    }))))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("the leases of a node that left the cluster's view but is still connected to PostgreSQL (the other "
      + "half of a split, or frozen) stay with it; once its sessions are gone, they are released")
  void aNodeStillConnectedKeepsItsLeases(VertxTestContext ctx) {
    // The other half's node: a session named as a store names its own, open while the view says it left.
    PgConnectOptions named = TestDatabase.connectOptions().addProperty("application_name", "fetchbus/n2");
    PgConnection[] alive = {null};
    newJob()
        .compose(job -> claimOne("n2/crawl-z"))
        .compose(lease -> PgConnection.connect(vertx, named).compose(conn -> {
              alive[0] = conn;
              return request(Bus.FRONTIER_RELEASE, new JsonObject().put("node", "n2"));
            })
            .compose(whileConnected -> TestDatabase.count(vertx, "SELECT count(*) FROM frontier WHERE state = 'leased' "
                    + "AND lease_owner = 'n2/crawl-z'")
                .compose(kept -> alive[0].close()
                    .compose(v -> closedSessionGone())
                    .compose(v -> request(Bus.FRONTIER_RELEASE, new JsonObject().put("node", "n2")))
                    .map(afterwards -> {
                      ctx.verify(() -> {
                        assertThat(whileConnected.getBoolean("connected")).isTrue();
                        assertThat(whileConnected.getInteger("released")).isZero();
                        assertThat(kept).as("leases of the node still connected").isEqualTo(1);
                        assertThat(afterwards.getBoolean("connected")).isFalse();
                        assertThat(afterwards.getInteger("released")).isEqualTo(1);
                      });
                      return null;
                    }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a crawl-only node (no store role) keeps its leases through a split too: its presence session shows "
      + "it alive; once it stops, its leases are released")
  void aCrawlOnlyNodeShowsItIsAlive(VertxTestContext ctx) {
    // The crawl-only node: a Vert.x of its own with its own node id, holding only NodePresence's session.
    io.vertx.core.Vertx crawlNode = io.vertx.core.Vertx.vertx();
    crawlNode.sharedData().getLocalMap(Bus.NODE_INFO).put(Bus.NODE_ID, "n3");
    NodePresence[] presence = {null};
    newJob()
        .compose(job -> claimOne("n3/crawl-c"))
        .compose(lease -> NodePresence.start(crawlNode, io.fetchbus.config.ConfigLoader.loadNow(
            ServiceUnderTest.config(new JsonObject()), java.util.Map.of())))
        .compose(p -> {
          presence[0] = p;
          return request(Bus.FRONTIER_RELEASE, new JsonObject().put("node", "n3"));
        })
        .compose(whileAlive -> presence[0].stop()
            .compose(v -> Poll.until(vertx, () -> TestDatabase.count(vertx,
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fetchbus/n3'").map(n -> n == 0)))
            .compose(v -> request(Bus.FRONTIER_RELEASE, new JsonObject().put("node", "n3")))
            .map(afterwards -> {
              ctx.verify(() -> {
                assertThat(whileAlive.getBoolean("connected")).as("connected while its presence is open").isTrue();
                assertThat(whileAlive.getInteger("released")).isZero();
                assertThat(afterwards.getBoolean("connected")).isFalse();
                assertThat(afterwards.getInteger("released")).isEqualTo(1);
              });
              return null;
            }))
        .eventually(() -> crawlNode.close())
        .onComplete(ctx.succeedingThenComplete());
  }

  /** Done once PostgreSQL no longer lists the closed session of "fetchbus/n2" (its backend exits just after). */
  private Future<Void> closedSessionGone() {
    return Poll.until(vertx, () -> TestDatabase.count(vertx,
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fetchbus/n2'").map(n -> n == 0));
  }

  @Test
  @DisplayName("the leases of an owner it does not know it holds (a claim whose answer was lost) go back at once, "
      + "the attempt counted; those it keeps stay its own")
  void releaseOfUnknownLeases(VertxTestContext ctx) {
    JsonArray seeds = new JsonArray();
    for (String path : new String[] {"/a", "/b"}) {
      seeds.add(new JsonObject().put("url", SITE + path).put("key", SITE + path).put("host", "example.com"));
    }
    request(Bus.JOBS_CREATE, new JsonObject().put("kind", "batch").put("spec", new JsonObject()).put("limit", 5)
            .put("seeds", seeds))
        .compose(created -> claimOne("n1/crawl-x"))
        .compose(known -> claimOne("n1/crawl-x").compose(lost ->
            request(Bus.FRONTIER_RELEASE, new JsonObject().put("owner", "n1/crawl-x")
                .put("keep", new JsonArray().add(known.getString("token"))).put("maxAttempts", 5)).compose(released ->
                claimOne("n2/crawl-y").compose(again -> request(Bus.FRONTIER_COMPLETE, complete(known)
                        .put("urlKey", known.getString("urlKey"))).compose(stored -> request(Bus.FRONTIER_RELEASE,
                        new JsonObject().put("owner", "n1/crawl-x").put("keep", new JsonArray().add("x"))).transform(bad -> {
                  ctx.verify(() -> {
                    assertThat(released.getInteger("released")).isEqualTo(1);
                    assertThat(again.getString("urlKey")).as("the lost lease's entry").isEqualTo(lost.getString("urlKey"));
                    assertThat(again.getInteger("attempts")).as("the lost claim's attempt counts").isEqualTo(2);
                    assertThat(stored.getJsonObject("page")).as("the kept lease still completes").isNotNull();
                    assertThat(bad.failed()).isTrue();
                    assertThat(Failure.INVALID.is(bad.cause())).isTrue();
                  });
                  return Future.succeededFuture();
                }))))))
        .onComplete(ctx.succeedingThenComplete());
  }

  private Future<JsonObject> claimOne(String owner) {
    return request(Bus.FRONTIER_CLAIM, new JsonObject().put("owner", owner).put("max", 1).put("leaseMs", 60_000))
        .map(r -> r.getJsonArray("entries").getJsonObject(0));
  }

  @Test
  @DisplayName("an entry whose leases keep expiring is discarded after maxAttempts, keeping the reason")
  void discardAfterMaxAttempts(VertxTestContext ctx) {
    newJob()
        .compose(job -> claim("node-a", 1).compose(l -> reapUntilReturned())
            .compose(v -> claim("node-a", 1)).compose(l -> request(Bus.FRONTIER_REAP, new JsonObject().put("maxAttempts", 2))
                .compose(r -> r.getInteger("reaped") == 1 ? Future.succeededFuture(r) : reapWithMax2()))
            .compose(v -> request(Bus.CRAWL_ERRORS, new JsonObject().put("id", job))))
        .onComplete(ctx.succeeding(errors -> ctx.verify(() -> {
          JsonObject e = errors.getJsonArray("items").getJsonObject(0);
          assertThat(e.getString("state")).isEqualTo("failed");
          assertThat(e.getInteger("attempts")).isEqualTo(2);
          assertThat(e.getString("errorClass")).isEqualTo("lease-expired");
          ctx.completeNow();
        })));
  }

  private Future<JsonObject> reapWithMax2() {
    return request(Bus.FRONTIER_REAP, new JsonObject().put("maxAttempts", 2))
        .compose(r -> r.getInteger("reaped") == 1 ? Future.succeededFuture(r) : vertx.timer(20).compose(t -> reapWithMax2()));
  }
}
