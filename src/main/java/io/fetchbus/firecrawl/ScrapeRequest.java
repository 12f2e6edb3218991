package io.fetchbus.firecrawl;

import io.fetchbus.bus.Failure;
import io.vertx.core.json.JsonObject;
import java.util.Set;

/** A Firecrawl scrape request (v1 or v2), checked ({@link ScrapeOptions}) and translated to a Fetchbus fetch request. */
record ScrapeRequest(String url, Set<String> formats, Long maxAgeSeconds) {
  static ScrapeRequest from(JsonObject body) {
    ScrapeOptions options = ScrapeOptions.from(body, Set.of("url"), "", "a scrape option");
    Object url = body.getValue("url");
    if (!(url instanceof String u) || u.isBlank()) {
      throw Failure.INVALID.exception("url: a URL is required");
    }
    return new ScrapeRequest(u.strip(), options.formats(), options.maxAgeSeconds());
  }

  /** The body of Fetchbus's own {@code POST /v1/fetch} for this request. */
  JsonObject fetchBody() {
    JsonObject json = new JsonObject().put("url", url)
        .put("formats", new ScrapeOptions(formats, maxAgeSeconds).fetchbusFormats());
    if (maxAgeSeconds != null) {
      json.put("maxAgeSeconds", maxAgeSeconds);
    }
    return json;
  }
}
