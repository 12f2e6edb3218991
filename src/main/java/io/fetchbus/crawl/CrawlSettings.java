package io.fetchbus.crawl;

import io.fetchbus.config.Settings;
import io.vertx.core.json.JsonObject;

/**
 * The {@code crawl} part of the config: how much one node takes on, and how leases and retries behave. Read without
 * defaults: the configuration holds the jar's ({@link Settings}).
 */
record CrawlSettings(int maxInFlight, int perHostInFlight, long leaseMs, long pollMs, int maxAttempts,
                     long retryBaseMs, long retryMaxMs, long maxRetryAfterMs, int maxLimit, int maxLinksPerPage,
                     long fetchTimeoutMs) {

  static CrawlSettings from(JsonObject config) {
    return new CrawlSettings(integer(config, "maxInFlight"), integer(config, "perHostInFlight"),
        whole(config, "leaseMs"), whole(config, "pollMs"), integer(config, "maxAttempts"),
        whole(config, "retryBaseMs"), whole(config, "retryMaxMs"), whole(config, "maxRetryAfterMs"),
        integer(config, "maxLimit"), integer(config, "maxLinksPerPage"), Settings.fetchTimeoutMs(config));
  }

  private static int integer(JsonObject config, String name) {
    return Settings.number(config, "crawl", name).intValue();
  }

  private static long whole(JsonObject config, String name) {
    return Settings.number(config, "crawl", name).longValue();
  }
}
