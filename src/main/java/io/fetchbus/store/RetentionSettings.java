package io.fetchbus.store;

import io.fetchbus.config.Settings;
import io.vertx.core.json.JsonObject;

/**
 * {@code retention.*}: pages with a body are deleted {@code pagesDays} after their fetch, failed attempts after
 * {@code failedDays} (0: kept for good, the default for both), checked every {@code everyMs}. Read without defaults: the configuration holds the jar's ({@link Settings}).
 */
record RetentionSettings(int pagesDays, int failedDays, long everyMs) {
  private static final int MAX_DAYS = 36_500;

  static RetentionSettings from(JsonObject config) {
    RetentionSettings s = new RetentionSettings(Settings.number(config, "retention", "pagesDays").intValue(),
        Settings.number(config, "retention", "failedDays").intValue(),
        Settings.number(config, "retention", "everyMs").longValue());
    for (String name : new String[] {"pagesDays", "failedDays"}) {
      int days = name.equals("pagesDays") ? s.pagesDays : s.failedDays;
      if (days < 0 || days > MAX_DAYS) {
        throw new IllegalArgumentException("retention." + name + " must be between 0 (keep for good) and " + MAX_DAYS
            + ", not " + days);
      }
    }
    if (s.everyMs < 1_000 || s.everyMs > 86_400_000L) {
      throw new IllegalArgumentException("retention.everyMs must be between 1000 and 86400000, not " + s.everyMs);
    }
    return s;
  }

  boolean on() {
    return pagesDays > 0 || failedDays > 0;
  }
}
