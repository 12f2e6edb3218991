package io.fetchbus.search;

import io.fetchbus.config.Settings;
import io.vertx.core.json.JsonObject;

/**
 * The {@code search} part of the config: whether stored pages are indexed for search at all, how often the
 * indexer looks for pages stored without their search vector, and how many pages one of its transactions indexes. Read without defaults: the configuration holds the jar's
 * ({@link Settings}).
 */
public record SearchSettings(boolean enabled, long refreshMs, int batchSize) {

  public static SearchSettings from(JsonObject config) {
    SearchSettings s = new SearchSettings(Settings.bool(config, "search", "enabled"),
        Settings.number(config, "search", "refreshMs").longValue(),
        Settings.number(config, "search", "batchSize").intValue());
    if (s.refreshMs < 10 || s.refreshMs > 3_600_000) {
      throw new IllegalArgumentException("search.refreshMs must be between 10 and 3600000, not " + s.refreshMs);
    }
    // A batch is held in memory to be analysed: up to 100,000 characters of text a page (SearchVector).
    if (s.batchSize < 1 || s.batchSize > 200) {
      throw new IllegalArgumentException("search.batchSize must be between 1 and 200, not " + s.batchSize);
    }
    return s;
  }
}
