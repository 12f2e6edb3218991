package io.fetchbus.crawl;

import io.vertx.core.json.JsonObject;

/**
 * The {@code watches} part of the config: the bounds every watch lives within, and how often a node looks for due
 * watches and for how long it leases one it runs.
 */
record WatchSettings(int maxPerKey, int maxUrls, int maxVersionsPerUrl, int maxDiffChars, int maxLinksInDiff,
                     long minIntervalSeconds, long maxIntervalSeconds, long pollMs, long leaseMs, int maxRuns) {

  static WatchSettings from(JsonObject config) {
    JsonObject w = config.getJsonObject("watches", new JsonObject());
    WatchSettings s = new WatchSettings(w.getInteger("maxPerKey", 100), w.getInteger("maxUrls", 100),
        w.getInteger("maxVersionsPerUrl", 20), w.getInteger("maxDiffChars", 20_000),
        w.getInteger("maxLinksInDiff", 100), w.getLong("minIntervalSeconds", 60L),
        w.getLong("maxIntervalSeconds", 2_592_000L), w.getLong("pollMs", 1_000L), w.getLong("leaseMs", 300_000L),
        w.getInteger("maxRuns", 4));
    if (s.maxPerKey < 1 || s.maxUrls < 1 || s.maxVersionsPerUrl < 1 || s.maxDiffChars < 1 || s.maxLinksInDiff < 0
        || s.maxRuns < 1) {
      throw new IllegalArgumentException("watches.maxPerKey, maxUrls, maxVersionsPerUrl, maxDiffChars and maxRuns "
          + "must be positive, maxLinksInDiff not negative");
    }
    if (s.minIntervalSeconds < 1 || s.maxIntervalSeconds < s.minIntervalSeconds || s.maxIntervalSeconds > 31_536_000L) {
      throw new IllegalArgumentException("watches.minIntervalSeconds must be at least 1 and at most "
          + "watches.maxIntervalSeconds, itself at most a year (31536000)");
    }
    if (s.pollMs < 1 || s.leaseMs < 1_000) {
      throw new IllegalArgumentException("watches.pollMs must be positive and watches.leaseMs at least 1000");
    }
    return s;
  }
}
