package io.fetchbus.crawl;

import io.fetchbus.config.Settings;
import io.vertx.core.json.JsonObject;

/**
 * The {@code watches} part of the config: the bounds every watch lives within, and how often a node looks for due
 * watches and for how long it leases one it runs. Read without defaults: the configuration holds the jar's ({@link Settings}).
 */
record WatchSettings(int maxPerKey, int maxUrls, int maxVersionsPerUrl, int maxDiffChars, int maxLinksInDiff,
                     long minIntervalSeconds, long maxIntervalSeconds, long pollMs, long leaseMs, int maxRuns) {

  static WatchSettings from(JsonObject config) {
    WatchSettings s = new WatchSettings(integer(config, "maxPerKey"), integer(config, "maxUrls"),
        integer(config, "maxVersionsPerUrl"), integer(config, "maxDiffChars"), integer(config, "maxLinksInDiff"),
        whole(config, "minIntervalSeconds"), whole(config, "maxIntervalSeconds"), whole(config, "pollMs"),
        whole(config, "leaseMs"), integer(config, "maxRuns"));
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

  private static int integer(JsonObject config, String name) {
    return Settings.number(config, "watches", name).intValue();
  }

  private static long whole(JsonObject config, String name) {
    return Settings.number(config, "watches", name).longValue();
  }
}
