package io.fetchbus.store;

import io.fetchbus.config.Settings;
import io.vertx.core.json.JsonObject;

/**
 * The {@code pg} part of the config. {@code url} is a {@code postgresql://user:password@host:port/db} URI. Read without
 * defaults: the configuration holds the jar's ({@link Settings}).
 */
record StoreSettings(String url, int poolSize, int maxWaitQueue, int connectTimeoutMs, int acquireTimeoutMs,
                     long requestTimeoutMs, boolean preparedStatements) {

  static StoreSettings from(JsonObject config) {
    String url = Settings.string(config, "pg", "url");
    if (url.isBlank()) {
      throw new IllegalArgumentException("pg.url is empty: the main verticle sets it, to the embedded server if need be");
    }
    StoreSettings s = new StoreSettings(url, integer(config, "poolSize"), integer(config, "maxWaitQueue"),
        integer(config, "connectTimeoutMs"), integer(config, "acquireTimeoutMs"), Settings.storeTimeoutMs(config),
        Settings.bool(config, "pg", "preparedStatements"));
    if (s.maxWaitQueue < 1) {
      // Vert.x reads -1 as unbounded: every queue here has a bound.
      throw new IllegalArgumentException("pg.maxWaitQueue must be at least 1, not " + s.maxWaitQueue);
    }
    return s;
  }

  private static int integer(JsonObject config, String name) {
    return Settings.number(config, "pg", name).intValue();
  }
}
