package io.fetchbus.store;

import io.vertx.pgclient.PgConnectOptions;
import org.flywaydb.core.Flyway;

/** Runs the versioned schema migrations ({@code db/migration}) with Flyway. Blocking: call from a worker thread. */
final class Migrations {
  private Migrations() {}

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
