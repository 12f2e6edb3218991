package io.fetchbus.crawl;

import io.vertx.core.json.JsonObject;

/** The {@code crawl} part of the config: how much one node takes on, and how leases and retries behave. */
record CrawlSettings(int maxInFlight, int perHostInFlight, long leaseMs, long pollMs, int maxAttempts,
                     long retryBaseMs, long retryMaxMs, long maxRetryAfterMs, int maxLimit, int maxLinksPerPage,
                     long fetchTimeoutMs) {

  static CrawlSettings from(JsonObject config) {
    JsonObject c = config.getJsonObject("crawl", new JsonObject());
    long fetchTimeoutMs = config.getJsonObject("fetch", new JsonObject()).getLong("timeoutMs", 30_000L);
    return new CrawlSettings(c.getInteger("maxInFlight", 64), c.getInteger("perHostInFlight", 8),
        c.getLong("leaseMs", 60_000L), c.getLong("pollMs", 250L), c.getInteger("maxAttempts", 3),
        c.getLong("retryBaseMs", 1_000L), c.getLong("retryMaxMs", 60_000L), c.getLong("maxRetryAfterMs", 3_600_000L),
        c.getInteger("maxLimit", 100_000),
        c.getInteger("maxLinksPerPage", 1_000), fetchTimeoutMs);
  }
}
