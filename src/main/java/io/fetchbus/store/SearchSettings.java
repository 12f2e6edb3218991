package io.fetchbus.store;

import io.vertx.core.json.JsonObject;

/**
 * The {@code search} part of the config: whether stored pages are indexed for search at all, how often the
 * indexer looks for new pages (the longest a page waits before it can be found, when it keeps up), and how many
 * pages one statement indexes.
 */
record SearchSettings(boolean enabled, long refreshMs, int batchSize) {

  static SearchSettings from(JsonObject config) {
    JsonObject search = config.getJsonObject("search", new JsonObject());
    SearchSettings s = new SearchSettings(search.getBoolean("enabled", true), search.getLong("refreshMs", 1000L),
        search.getInteger("batchSize", 500));
    if (s.refreshMs < 10 || s.refreshMs > 3_600_000) {
      throw new IllegalArgumentException("search.refreshMs must be between 10 and 3600000, not " + s.refreshMs);
    }
    if (s.batchSize < 1 || s.batchSize > 10_000) {
      throw new IllegalArgumentException("search.batchSize must be between 1 and 10000, not " + s.batchSize);
    }
    return s;
  }
}
