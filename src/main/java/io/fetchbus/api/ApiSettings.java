package io.fetchbus.api;

import io.fetchbus.bus.FetchRequest;
import io.fetchbus.config.ConfigLoader;
import io.fetchbus.config.Settings;
import io.vertx.core.json.JsonObject;

/**
 * What the API reads of the node's configuration, read once. The configuration always holds the jar's defaults
 * ({@link ConfigLoader}), so none is written here again: a setting missing is a configuration not built by
 * ConfigLoader, and fails the start. {@code defaultMaxAgeSeconds} is null for none (-1 in the configuration).
 */
record ApiSettings(String host, int port, int maxRequestBytes, boolean dashboard, long fetchTimeoutMs,
                   Long defaultMaxAgeSeconds, long storeTimeoutMs, long graceMs, long cacheTtlSeconds,
                   long nodeTimeoutMs, Metrics metrics, WatchStreams watchStreams) {

  /** {@code metrics.*}: whether {@code /metrics} is served, and who may read it. */
  record Metrics(boolean enabled, String key, boolean open) {}

  /** {@code watches.maxEventStreams}, {@code eventQueue}, {@code eventHeartbeatMs}: a watch's event streams. */
  record WatchStreams(int maxStreams, int queue, long heartbeatMs) {}

  static ApiSettings from(JsonObject cfg) {
    long defaultMaxAge = Settings.number(cfg, "fetch", "defaultMaxAgeSeconds").longValue();
    if (defaultMaxAge < -1 || defaultMaxAge > FetchRequest.MAX_AGE_LIMIT) {
      throw new IllegalArgumentException("fetch.defaultMaxAgeSeconds must be -1 (none) or from 0 to "
          + FetchRequest.MAX_AGE_LIMIT + ", got " + defaultMaxAge);
    }
    WatchStreams streams = new WatchStreams(Settings.number(cfg, "watches", "maxEventStreams").intValue(),
        Settings.number(cfg, "watches", "eventQueue").intValue(),
        Settings.number(cfg, "watches", "eventHeartbeatMs").longValue());
    if (streams.maxStreams() < 1 || streams.queue() < 1 || streams.heartbeatMs() < 10) {
      throw new IllegalArgumentException("watches.maxEventStreams and watches.eventQueue must be positive, "
          + "watches.eventHeartbeatMs at least 10");
    }
    return new ApiSettings(Settings.string(cfg, "http", "host"), Settings.number(cfg, "http", "port").intValue(),
        Settings.number(cfg, "http", "maxRequestBytes").intValue(), Settings.bool(cfg, "http", "dashboard"),
        Settings.fetchTimeoutMs(cfg), defaultMaxAge < 0 ? null : defaultMaxAge, Settings.storeTimeoutMs(cfg),
        Settings.graceMs(cfg), Settings.number(cfg, "cache", "ttlSeconds").longValue(),
        Settings.number(cfg, "cluster", "nodeTimeoutMs").longValue(),
        new Metrics(Settings.bool(cfg, "metrics", "enabled"), Settings.string(cfg, "metrics", "key"),
            Settings.bool(cfg, "metrics", "open")),
        streams);
  }
}
