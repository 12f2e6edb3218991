package io.fetchbus.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.PrivatePostgres;
import io.fetchbus.support.TestBase;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The frontier's hot statements on a 50,000-entry frontier stay on their indexes: what PostgreSQL plans is
 * checked with EXPLAIN, not with a timing a busy machine would spoil. Both plans PostgreSQL may choose for a
 * prepared statement are checked: the custom plan for the values given, and the generic plan it may switch to
 * after a few executions of a statement kept prepared (EXPLAIN's GENERIC_PLAN, PostgreSQL 16 and later: the private
 * server is the embedded 17). Of these statements only the lease check of a batch of completions is kept prepared
 * ({@link StoreConnections#KEPT_PREPARED}); the others' generic plans are checked as a safeguard. In a private
 * server, so the 50,000 rows disturb nobody.
 */
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class ClaimPlanTest extends TestBase {
  private static final String JOB = "00000000-0000-0000-0000-0000000000c1";
  private static final int ENTRIES = 50_000;
  private static final int HOSTS = 50;

  @RegisterExtension
  final PrivatePostgres db = new PrivatePostgres();
  private Pool pool;

  /**
   * A job half way through a big crawl: 50,000 entries over 50 hosts, 30,000 done, 15,000 queued and due,
   * 4,900 queued for later (retries), 100 leased; every host in crawl_hosts. Then ANALYZE, as autovacuum would.
   */
  @BeforeEach
  void frontier(VertxTestContext ctx) {
    db.start(vertx)
        .compose(d -> vertx.executeBlocking(() -> Migrations.migrate(db.connectOptions()), false))
        .compose(applied -> {
          pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(1)).connectingTo(db.connectOptions()).using(vertx).build();
          return pool.query("INSERT INTO crawl_jobs (id, kind, spec, page_limit, max_depth, state) VALUES ('" + JOB
              + "', 'crawl', '{}', 100000, 10, 'running')").execute();
        })
        .compose(v -> pool.query("INSERT INTO crawl_hosts (job_id, host) SELECT '" + JOB + "', 'host-' || h || '.example' "
            + "FROM generate_series(0, " + (HOSTS - 1) + ") h").execute())
        .compose(v -> pool.query("""
            INSERT INTO frontier (job_id, url_key, url, host, depth, state, attempts, next_at, lease_owner, lease_token,
                                  lease_until)
            SELECT '%s', u, u, 'host-' || (i %% %d) || '.example', 1 + i %% 7,
                   CASE WHEN i < 30000 THEN 'done' WHEN i < 49900 THEN 'queued' ELSE 'leased' END,
                   CASE WHEN i < 45000 THEN 1 ELSE 0 END,
                   CASE WHEN i BETWEEN 45000 AND 49899 THEN now() + interval '1 hour' ELSE now() END,
                   CASE WHEN i >= 49900 THEN 'node-x' END,
                   CASE WHEN i >= 49900 THEN gen_random_uuid() END,
                   CASE WHEN i >= 49900 THEN now() + interval '1 minute' END
            FROM generate_series(0, %d) i, LATERAL (SELECT 'http://host-' || (i %% %d) || '.example/p/' || i AS u) x
            """.formatted(JOB, HOSTS, ENTRIES - 1, HOSTS)).execute())
        .compose(v -> pool.query("ANALYZE").execute())
        .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * The plan of {@code sql}, as JSON: with {@code params} bound (the custom plan), or with none (PostgreSQL's
   * {@code GENERIC_PLAN}, the plan a cached prepared statement switches to).
   */
  private Future<JsonObject> explain(boolean generic, String sql, Tuple params) {
    return (generic ? pool.query("EXPLAIN (GENERIC_PLAN, FORMAT JSON) " + sql).execute()
        : pool.preparedQuery("EXPLAIN (FORMAT JSON) " + sql).execute(params))
        .map(rows -> {
          Object plan = rows.iterator().next().getValue(0);
          JsonArray array = plan instanceof JsonArray a ? a : new JsonArray(plan.toString());
          return array.getJsonObject(0).getJsonObject("Plan");
        });
  }

  /** Every node of the plan that reads the table frontier, as "Node Type on index". */
  private static List<String> frontierScans(JsonObject node, List<String> into) {
    if ("frontier".equals(node.getString("Relation Name"))) {
      into.add(node.getString("Node Type") + (node.containsKey("Index Name") ? " on " + node.getString("Index Name") : ""));
    }
    JsonArray children = node.getJsonArray("Plans", new JsonArray());
    for (int i = 0; i < children.size(); i++) {
      frontierScans(children.getJsonObject(i), into);
    }
    return into;
  }

  private static Tuple claimParams() {
    // As Frontier.claim sends it for a node with room for 64, 8 per host: 16 hosts looked at, none busy.
    return Tuple.of(JOB, "node-a", 64, 8, 16, 60_000L, new String[0]);
  }

  @Test
  @DisplayName("a claim on a 50,000-entry frontier reads the due entries through frontier_due and updates them by "
      + "primary key, in the custom and in the generic plan: no sequential scan of the frontier")
  void claimUsesTheDueIndex(VertxTestContext ctx) {
    Future.all(explain(false, CrawlSql.CLAIM, claimParams()), explain(true, CrawlSql.CLAIM, claimParams()))
        .onComplete(ctx.succeeding(plans -> ctx.verify(() -> {
          for (int i = 0; i < 2; i++) {
            JsonObject plan = plans.resultAt(i);
            List<String> scans = frontierScans(plan, new ArrayList<>());
            assertThat(scans).as(plan.encodePrettily()).isNotEmpty().noneMatch(s -> s.startsWith("Seq Scan"))
                .anyMatch(s -> s.endsWith(" on frontier_due"));
          }
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("the other statements every crawl node runs on a timer (reap, renew, the jobs with leases) and the job "
      + "errors listing use an index of the 50,000-entry frontier too, in both plans")
  void timersUseIndexes(VertxTestContext ctx) {
    Tuple reap = Tuple.of(3, JOB);
    Tuple renew = Tuple.of("node-x", new java.util.UUID[] {java.util.UUID.randomUUID()}, 60_000L);
    Tuple withLeases = Tuple.of((String) null);
    Tuple errors = Tuple.of(JOB, null, 100);
    List<Future<JsonObject>> plans = new ArrayList<>();
    for (boolean mode : List.of(false, true)) {
      plans.add(explain(mode, CrawlSql.REAP, reap));
      plans.add(explain(mode, CrawlSql.RENEW, renew));
      plans.add(explain(mode, CrawlSql.JOBS_WITH_LEASES, withLeases));
      plans.add(explain(mode, CrawlSql.JOB_ERRORS, errors));
    }
    Future.all(plans).onComplete(ctx.succeeding(all -> ctx.verify(() -> {
      for (Future<JsonObject> f : plans) {
        List<String> scans = frontierScans(f.result(), new ArrayList<>());
        assertThat(scans).as(f.result().encodePrettily()).isNotEmpty().noneMatch(s -> s.startsWith("Seq Scan"));
      }
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("the lease check of a batch of completions, a statement kept prepared, looks each entry up by its key "
      + "in both plans")
  void heldLeasesLookEntriesUp(VertxTestContext ctx) {
    assertThat(StoreConnections.KEPT_PREPARED).contains(CrawlSql.HELD_LEASES);
    Tuple held = Tuple.of(JOB, new String[] {"http://host-1.example/p/49901"},
        new java.util.UUID[] {java.util.UUID.randomUUID()});
    Future.all(explain(false, CrawlSql.HELD_LEASES, held), explain(true, CrawlSql.HELD_LEASES, held))
        .onComplete(ctx.succeeding(plans -> ctx.verify(() -> {
          for (int i = 0; i < 2; i++) {
            JsonObject plan = plans.resultAt(i);
            assertThat(frontierScans(plan, new ArrayList<>())).as(plan.encodePrettily()).isNotEmpty()
                .allMatch(s -> s.startsWith("Index"));
          }
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("the claim then leases 64 due entries, at most 8 per host, the shallowest first")
  void claimLeases(VertxTestContext ctx) {
    pool.withTransaction(tx -> tx.preparedQuery(CrawlSql.CLAIM).execute(claimParams()))
        .onComplete(ctx.succeeding(rows -> ctx.verify(() -> {
          java.util.Map<String, Integer> perHost = new java.util.HashMap<>();
          rows.forEach(r -> {
            perHost.merge(r.getString("host"), 1, Integer::sum);
            assertThat(r.getInteger("depth")).isEqualTo(1);
          });
          assertThat(rows.rowCount()).isEqualTo(64);
          assertThat(perHost.values()).allMatch(n -> n <= 8);
          ctx.completeNow();
        })));
  }
}
