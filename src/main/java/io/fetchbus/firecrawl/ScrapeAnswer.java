package io.fetchbus.firecrawl;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** A Fetchbus page record, as Firecrawl's scrape answers it: {@code data} with the formats asked and metadata. */
final class ScrapeAnswer {
  private ScrapeAnswer() {}

  static JsonObject document(ScrapeRequest req, JsonObject page) {
    JsonObject data = new JsonObject();
    if (req.formats().contains("markdown")) {
      data.put("markdown", page.getString("markdown", ""));
    }
    // Fetchbus keeps the page as it was fetched: that is rawHtml, and also what html is here (not a cleaned copy).
    if (req.formats().contains("html")) {
      data.put("html", page.getString("html"));
    }
    if (req.formats().contains("rawHtml")) {
      data.put("rawHtml", page.getString("html"));
    }
    if (req.formats().contains("links")) {
      JsonArray links = new JsonArray();
      page.getJsonArray("links", new JsonArray()).forEach(l -> links.add(((JsonObject) l).getString("url")));
      data.put("links", links);
    }
    JsonObject metadata = new JsonObject();
    JsonObject extracted = page.getJsonObject("metadata", new JsonObject());
    extracted.forEach(e -> {
      if (e.getValue() instanceof String || e.getValue() instanceof Number) {
        metadata.put(e.getKey(), e.getValue());
      }
    });
    String title = page.getString("title", extracted.getString("title"));
    if (title != null) {
      metadata.put("title", title);
    }
    boolean hit = page.getBoolean("fromCache", false);
    metadata.put("sourceURL", req.url())
        .put("url", page.getString("finalUrl", page.getString("url")))
        .put("statusCode", page.getInteger("status"))
        .put("contentType", page.getString("contentType"))
        .put("cacheState", hit ? "hit" : "miss")
        .put("scrapeId", String.valueOf(page.getValue("id")))
        .put("proxyUsed", "basic");
    if (hit) {
      metadata.put("cachedAt", page.getString("fetchedAt"));
    }
    return data.put("metadata", metadata);
  }
}
