package io.fetchbus.store;

import io.vertx.core.Future;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.SqlClient;
import org.flywaydb.core.Flyway;

/** Runs the versioned schema migrations ({@code db/migration}) with Flyway. */
final class Migrations {
  private Migrations() {}

  /** The version of the newest migration in {@code db/migration} (checked by {@code MigrationsTest}). */
  static final String LATEST = "19";

  /**
   * Whether the schema is at {@link #LATEST} already, asked over the service's own pool. Most starts find it so:
   * they skip Flyway, whose JDBC connection, classpath scan and validation took 0.8 s of every start. A failed
   * migration, an older or a missing history all answer false, and Flyway then runs and says what is wrong.
   */
  static Future<Boolean> current(SqlClient client) {
    return client.query(Sql.SCHEMA_VERSION).execute()
        .map(rows -> rows.size() == 1 && LATEST.equals(rows.iterator().next().getString("version")))
        .otherwise(false);
  }

  /** Applies what is missing and returns how many were applied. Blocking (JDBC): call from a worker thread. */
  static int migrate(PgConnectOptions pg) {
    String host = pg.getHost().contains(":") ? "[" + pg.getHost() + "]" : pg.getHost();
    String jdbcUrl = "jdbc:postgresql://" + host + ":" + pg.getPort() + "/" + pg.getDatabase()
        + "?connectTimeout=5&socketTimeout=60&sslmode=" + pg.getSslMode().value;
    return Flyway.configure()
        .dataSource(jdbcUrl, pg.getUser(), pg.getPassword())
        .locations("classpath:db/migration")
        .load()
        .migrate()
        .migrationsExecuted;
  }
}
