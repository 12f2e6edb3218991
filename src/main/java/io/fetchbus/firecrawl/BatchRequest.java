package io.fetchbus.firecrawl;

import io.fetchbus.bus.Failure;
import io.fetchbus.bus.WebUrl;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Set;

/**
 * A Firecrawl batch scrape request (v1 or v2): its URLs and, at the top level, the scrape options of every URL
 * ({@link ScrapeOptions}), translated to the spec of a Fetchbus batch job ({@code POST /v1/batches}). With
 * {@code ignoreInvalidURLs} (v2's default, not v1's) an entry that is not a URL is left out and named in the answer's
 * {@code invalidURLs}; without it, one is a 400.
 */
record BatchRequest(JsonObject spec, JsonArray invalidUrls) {
  private static final Set<String> FIELDS = Set.of("urls", "webhook", "appendToId", "ignoreInvalidURLs",
      "maxConcurrency");

  static BatchRequest from(JsonObject body, int version) {
    ScrapeOptions options = ScrapeOptions.from(body, FIELDS, "", "a batch scrape option");
    if (body.getValue("appendToId") != null) {
      throw Failure.INVALID.exception("appendToId: a Fetchbus job's URLs are fixed when it starts; start another"
          + " batch for more URLs");
    }
    Object ignore = body.getValue("ignoreInvalidURLs");
    if (ignore != null && !(ignore instanceof Boolean)) {
      throw Failure.INVALID.exception("ignoreInvalidURLs: must be true or false");
    }
    boolean ignoreInvalid = ignore == null ? version == 2 : (Boolean) ignore;
    if (!(body.getValue("urls") instanceof JsonArray urls) || urls.isEmpty()) {
      throw Failure.INVALID.exception("urls: must be a non-empty array of URLs");
    }
    JsonArray valid = new JsonArray();
    JsonArray invalid = new JsonArray();
    for (int i = 0; i < urls.size(); i++) {
      try {
        valid.add(WebUrl.parse("urls[" + i + "]", urls.getValue(i)).toString());
      } catch (ReplyException e) {
        if (!ignoreInvalid) {
          throw Failure.INVALID.exception(e.getMessage() + " (ignoreInvalidURLs: true leaves such entries out)");
        }
        invalid.add(String.valueOf(urls.getValue(i)));
      }
    }
    if (valid.isEmpty()) {
      throw Failure.INVALID.exception("urls: no entry is a valid URL");
    }
    JsonObject spec = new JsonObject().put("urls", valid).put("formats", options.fetchbusFormats());
    if (options.maxAgeSeconds() != null) {
      spec.put("maxAgeSeconds", options.maxAgeSeconds());
    }
    if (body.getValue("maxConcurrency") != null) {
      spec.put("maxConcurrency", body.getValue("maxConcurrency"));
    }
    if (body.getValue("webhook") != null) {
      spec.put("webhook", FirecrawlWebhook.of(body.getValue("webhook")));
    }
    return new BatchRequest(spec, invalid);
  }
}
