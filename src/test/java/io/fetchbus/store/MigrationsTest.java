package io.fetchbus.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.MainVerticle;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A start skips Flyway only when the schema is at the jar's newest version; any other schema is migrated. */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class MigrationsTest extends TestBase {
  private static final Pattern VERSIONED = Pattern.compile("V(\\d+)__.*\\.sql");

  @Test
  @DisplayName("LATEST names the newest migration in db/migration, so a start never skips one that is missing")
  void latestIsTheNewestMigration() throws IOException {
    int newest;
    try (Stream<Path> files = Files.list(Path.of("src/main/resources/db/migration"))) {
      newest = files.map(f -> VERSIONED.matcher(f.getFileName().toString())).filter(Matcher::matches)
          .mapToInt(m -> Integer.parseInt(m.group(1))).max().orElseThrow();
    }
    assertThat(Migrations.LATEST).isEqualTo(String.valueOf(newest));
  }

  @Test
  @DisplayName("a schema one version behind is seen as such, and the next start migrates it")
  void olderSchemaIsMigrated(VertxTestContext ctx) {
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(1)).connectingTo(TestDatabase.connectOptions())
        .using(vertx).build();
    String inPlpgsql = "SELECT count(*) FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
        + "WHERE p.proname = 'frontier_apply' AND l.lanname = 'plpgsql'";
    // The first start makes sure the schema is current; then the newest migration is undone, as an older release
    // of the service left the schema (frontier_apply in SQL, as V5 made it), and the service starts again.
    String undoNewest = """
        CREATE OR REPLACE FUNCTION frontier_apply(jobs uuid[], states text[], deltas integer[]) RETURNS void
        LANGUAGE sql AS $$
          UPDATE crawl_jobs c SET queued = c.queued + x.queued, leased = c.leased + x.leased, done = c.done + x.done,
            failed = c.failed + x.failed, robots = c.robots + x.robots, skipped = c.skipped + x.skipped
          FROM (SELECT job_id, COALESCE(sum(n) FILTER (WHERE state = 'queued'), 0) AS queued,
                  COALESCE(sum(n) FILTER (WHERE state = 'leased'), 0) AS leased,
                  COALESCE(sum(n) FILTER (WHERE state = 'done'), 0) AS done,
                  COALESCE(sum(n) FILTER (WHERE state = 'failed'), 0) AS failed,
                  COALESCE(sum(n) FILTER (WHERE state = 'robots'), 0) AS robots,
                  COALESCE(sum(n) FILTER (WHERE state = 'skipped'), 0) AS skipped
                FROM unnest(jobs, states, deltas) AS d (job_id, state, n) GROUP BY job_id ORDER BY job_id) x
          WHERE c.id = x.job_id
        $$;
        """;
    startStore()
        .compose(v -> Migrations.current(pool))
        .compose(currentBefore -> pool.query(undoNewest
                + "DELETE FROM flyway_schema_history WHERE version = '" + Migrations.LATEST + "'").execute()
            .compose(v -> Migrations.current(pool))
            .compose(currentWhenOlder -> TestDatabase.count(vertx, inPlpgsql).compose(plpgsqlWhenOlder -> startStore()
                .compose(v -> Migrations.current(pool))
                .compose(currentAfter -> TestDatabase.count(vertx, inPlpgsql).map(plpgsqlAfter -> {
                  ctx.verify(() -> {
                    assertThat(currentBefore).isTrue();
                    assertThat(currentWhenOlder).isFalse();
                    assertThat(plpgsqlWhenOlder).isZero();
                    assertThat(currentAfter).isTrue();
                    assertThat(plpgsqlAfter).isEqualTo(1);
                  });
                  return null;
                })))))
        .eventually(pool::close)
        .onComplete(ctx.succeedingThenComplete());
  }

  /** Starts a store-only node, which completes once the schema is ready, and stops it again. */
  private Future<Void> startStore() {
    return vertx.deployVerticle(new MainVerticle(Map.of()),
            new DeploymentOptions().setConfig(ServiceUnderTest.config(new JsonObject().put("roles", "store"))))
        .compose(vertx::undeploy);
  }
}
