package io.fetchbus.firecrawl;

import io.fetchbus.bus.FirecrawlDocument;
import io.vertx.core.json.JsonObject;

/** A Fetchbus page record, as Firecrawl's scrape answers it: {@code data} with the formats asked and metadata. */
final class ScrapeAnswer {
  private ScrapeAnswer() {}

  static JsonObject document(ScrapeRequest req, JsonObject page) {
    return FirecrawlDocument.of(page, req.url(), req.formats());
  }
}
