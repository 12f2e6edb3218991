package io.fetchbus.fetch;

import io.vertx.core.json.JsonObject;

/** The {@code fetch} and {@code cache} parts of the config. */
record FetchSettings(int connectTimeoutMs, int idleTimeoutMs, int timeoutMs, long maxBodyBytes, int maxRedirects,
                     int maxConnectionsPerHost, int maxInFlight, String userAgent, long cacheMaxBytes, long cacheTtlSeconds) {

  static FetchSettings from(JsonObject config) {
    JsonObject f = config.getJsonObject("fetch", new JsonObject());
    JsonObject c = config.getJsonObject("cache", new JsonObject());
    FetchSettings s = new FetchSettings(f.getInteger("connectTimeoutMs", 5000), f.getInteger("idleTimeoutMs", 15000),
        f.getInteger("timeoutMs", 30000), f.getLong("maxBodyBytes", 10L << 20), f.getInteger("maxRedirects", 5),
        f.getInteger("maxConnectionsPerHost", 8), f.getInteger("maxInFlight", 256), f.getString("userAgent", "Fetchbus"),
        c.getLong("maxBytes", 64L << 20), c.getLong("ttlSeconds", 3600L));
    if (s.maxBodyBytes <= 0 || s.maxBodyBytes > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("fetch.maxBodyBytes must be between 1 and " + (Integer.MAX_VALUE - 8));
    }
    if (s.maxInFlight <= 0 || s.maxConnectionsPerHost <= 0) {
      throw new IllegalArgumentException("fetch.maxInFlight and fetch.maxConnectionsPerHost must be positive");
    }
    if (s.maxRedirects < 0 || s.timeoutMs <= 0 || s.connectTimeoutMs <= 0 || s.idleTimeoutMs <= 0) {
      throw new IllegalArgumentException("fetch timeouts must be positive and fetch.maxRedirects not negative");
    }
    return s;
  }
}
