package io.fetchbus.store;

import io.fetchbus.config.Settings;
import io.vertx.core.json.JsonObject;

/** The {@code pg} part of the config. {@code url} is a {@code postgresql://user:password@host:port/db} URI. */
record StoreSettings(String url, int poolSize, int maxWaitQueue, int connectTimeoutMs, int acquireTimeoutMs,
                     long requestTimeoutMs) {

  static StoreSettings from(JsonObject config) {
    JsonObject pg = config.getJsonObject("pg", new JsonObject());
    String url = pg.getString("url", "");
    if (url.isBlank()) {
      throw new IllegalArgumentException("pg.url is empty: the main verticle sets it, to the embedded server if need be");
    }
    StoreSettings s = new StoreSettings(url, pg.getInteger("poolSize", 8), pg.getInteger("maxWaitQueue", 256),
        pg.getInteger("connectTimeoutMs", 5000), pg.getInteger("acquireTimeoutMs", 5000),
        Settings.storeTimeoutMs(config));
    if (s.maxWaitQueue < 1) {
      // Vert.x reads -1 as unbounded: every queue here has a bound.
      throw new IllegalArgumentException("pg.maxWaitQueue must be at least 1, not " + s.maxWaitQueue);
    }
    return s;
  }
}
