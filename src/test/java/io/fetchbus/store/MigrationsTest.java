package io.fetchbus.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.MainVerticle;
import io.fetchbus.support.Fetchbus;
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
    String functions = "SELECT count(*) FROM pg_proc WHERE proname = 'page_search_vector'";
    // The first start makes sure the schema is current; then it is put back to what V8 left, as an older
    // release of the service left it (search a generated column), and the service starts again.
    String undoV9 = """
        DROP INDEX pages_unindexed; DROP FUNCTION page_search_vector; ALTER TABLE pages DROP COLUMN search;
        ALTER TABLE pages ADD COLUMN search tsvector GENERATED ALWAYS AS (
          setweight(to_tsvector('english'::regconfig, left(COALESCE(title, ''), 1000)), 'A') ||
          setweight(to_tsvector('english'::regconfig, left(COALESCE(text, ''), 100000)), 'B')) STORED;
        CREATE INDEX pages_search ON pages USING gin (search) WHERE error IS NULL;
        DO $$ BEGIN
          IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
            ALTER TABLE pages ALTER COLUMN search SET COMPRESSION lz4; -- as V7 left it
          END IF;
        END $$;
        """;
    startStore()
        .compose(v -> Migrations.current(pool))
        .compose(currentBefore -> pool.query(undoV9
                + "DELETE FROM flyway_schema_history WHERE version = '" + Migrations.LATEST + "'").execute()
            .compose(v -> Migrations.current(pool))
            .compose(currentWhenOlder -> TestDatabase.count(vertx, functions).compose(functionsWhenOlder -> startStore()
                .compose(v -> Migrations.current(pool))
                .compose(currentAfter -> TestDatabase.count(vertx, functions).map(functionsAfter -> {
                  ctx.verify(() -> {
                    assertThat(currentBefore).isTrue();
                    assertThat(currentWhenOlder).isFalse();
                    assertThat(functionsWhenOlder).isZero();
                    assertThat(currentAfter).isTrue();
                    assertThat(functionsAfter).isEqualTo(1);
                  });
                  return null;
                })))))
        .eventually(pool::close)
        .onComplete(ctx.succeedingThenComplete());
  }

  /** Starts a store-only node, which completes once the schema is ready, and stops it again. */
  private Future<Void> startStore() {
    return vertx.deployVerticle(new MainVerticle(Map.of()),
            new DeploymentOptions().setConfig(Fetchbus.config(new JsonObject().put("roles", "store"))))
        .compose(vertx::undeploy);
  }
}
