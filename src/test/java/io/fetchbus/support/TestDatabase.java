package io.fetchbus.support;

import io.fetchbus.store.EmbeddedDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real PostgreSQL the tests use: the server named by {@code FETCHBUS_PG_URL} (what {@code .ci/run} sets),
 * otherwise an embedded one started once for the whole test run, so {@code mvn test} works on a bare machine.
 */
public final class TestDatabase {
  private static String url;

  private TestDatabase() {}

  public static synchronized String url() {
    if (url == null) {
      String configured = System.getenv("FETCHBUS_PG_URL");
      if (configured != null && !configured.isBlank()) {
        url = configured;
        warnIfShared();
      } else {
        try {
          Path dir = Files.createTempDirectory("fetchbus-test-pg");
          EmbeddedDatabase db = EmbeddedDatabase.start(dir, 0);
          Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
              db.close();
            } catch (IOException ignored) {
              // the process is ending anyway
            }
          }));
          url = db.url();
        } catch (IOException e) {
          throw new UncheckedIOException("could not start the embedded PostgreSQL for the tests", e);
        }
      }
    }
    return url;
  }

  /**
   * Tests empty the tables and count what the service did, so a second user of the database (another test run, a
   * service process left over from a killed one) makes them fail in ways that point elsewhere: say so up front.
   */
  private static void warnIfShared() {
    Vertx probe = Vertx.vertx();
    try {
      Pool pool = PgBuilder.pool().connectingTo(connectOptions()).using(probe).build();
      long others = pool.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
              + " AND pid <> pg_backend_pid() AND usename IS NOT NULL").execute()
          .map(rows -> rows.iterator().next().getLong(0))
          .eventually(pool::close)
          .await(10, TimeUnit.SECONDS);
      if (others > 0) {
        String shown = url.replaceAll("//[^@]*@", "//").replaceAll("\\?.*", ""); // no credentials in the log
        System.err.println("WARNING: " + others + " other connection(s) to the test database " + shown
            + ": another test run or a service left running may make tests fail");
      }
    } catch (Exception e) {
      System.err.println("WARNING: could not check who else uses the test database: " + e);
    } finally {
      probe.close();
    }
  }

  public static PgConnectOptions connectOptions() {
    return PgConnectOptions.fromUri(url());
  }

  /**
   * Empties every table the service writes, so each test starts from nothing. A database the service has not made its
   * tables in yet (a test run's first test that empties it before deploying) has nothing to empty.
   */
  public static Future<Void> truncate(Vertx vertx) {
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(1)).connectingTo(connectOptions()).using(vertx).build();
    return pool.query("SELECT to_regclass('pages') IS NOT NULL AS made").execute()
        .compose(rows -> !rows.iterator().next().getBoolean("made") ? Future.<Void>succeededFuture()
            : pool.query("TRUNCATE pages, contents, crawl_jobs, frontier, frontier_links, crawl_hosts, watches, watch_urls, watch_changes RESTART IDENTITY").execute()
                .<Void>mapEmpty())
        .eventually(pool::close);
  }

  /** Runs one SQL statement and returns the first column of the first row as a long (counts, mostly). */
  public static Future<Long> count(Vertx vertx, String sql) {
    return count(vertx, connectOptions(), sql);
  }

  /** The same on the server {@code db} (a test's {@link PrivatePostgres}). */
  public static Future<Long> count(Vertx vertx, PgConnectOptions db, String sql) {
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(1)).connectingTo(db).using(vertx).build();
    return pool.query(sql).execute()
        .map(rows -> rows.iterator().next().getLong(0))
        .eventually(pool::close);
  }

  /** Runs one SQL query and returns its rows, each as a JSON object by column name. */
  public static Future<List<JsonObject>> rows(Vertx vertx, String sql) {
    return rows(vertx, connectOptions(), sql);
  }

  /** The same on the server {@code db}. */
  public static Future<List<JsonObject>> rows(Vertx vertx, PgConnectOptions db, String sql) {
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(1)).connectingTo(db).using(vertx).build();
    return pool.query(sql).execute()
        .map(rows -> {
          List<JsonObject> out = new ArrayList<>();
          rows.forEach(r -> out.add(r.toJson()));
          return out;
        })
        .eventually(pool::close);
  }

  /** Completes once a connection to the test database waits for a lock (one the test holds, in practice). */
  public static Future<Void> someoneWaitsForALock(Vertx vertx) {
    return count(vertx, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            + "AND datname = current_database()")
        .compose(n -> n > 0 ? Future.<Void>succeededFuture() : vertx.timer(10).compose(t -> someoneWaitsForALock(vertx)));
  }
}
