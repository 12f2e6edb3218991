package io.fetchbus.crawl;

import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FetchRequest;
import io.fetchbus.bus.Fields;
import io.fetchbus.bus.ContentFormats;
import io.fetchbus.bus.UrlSecrets;
import io.fetchbus.bus.WebUrl;
import io.fetchbus.webhook.Webhook;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A batch: a list of URLs fetched once each (depth 0, no link following). A URL that is not valid is reported
 * with its index and reason and left out; it does not fail the batch, unless no URL is valid. The same URL twice is
 * fetched once. {@code maxConcurrency} and {@code maxAgeSeconds} (null when absent) mean what they mean for a
 * crawl ({@link CrawlSpec}).
 */
record BatchSpec(List<WebUrl> urls, JsonArray invalidUrls, boolean obeyRobots, List<String> formats,
                 JsonObject webhook, Integer maxConcurrency, Long maxAgeSeconds) {
  static final int MAX_URLS = 10_000;
  private static final int MAX_REASONS = 5;
  private static final Set<String> FIELDS = Set.of("urls", "obeyRobots", "formats", "webhook", "maxConcurrency",
      "maxAgeSeconds");

  static BatchSpec from(JsonObject j) {
    Fields.onlyKnown(j, FIELDS, "batch option");
    Object v = j.getValue("urls");
    if (!(v instanceof JsonArray a) || a.isEmpty()) {
      throw Failure.INVALID.exception("urls: must be a non-empty array of URLs");
    }
    if (a.size() > MAX_URLS) {
      throw Failure.INVALID.exception("urls: at most " + MAX_URLS + " URLs per batch, got " + a.size());
    }
    Map<String, WebUrl> valid = new LinkedHashMap<>();
    JsonArray invalid = new JsonArray();
    for (int i = 0; i < a.size(); i++) {
      try {
        WebUrl url = WebUrl.parse("urls[" + i + "]", a.getValue(i));
        valid.putIfAbsent(url.key(), url);
      } catch (ReplyException e) {
        Object raw = a.getValue(i);
        // Echoed in the job record: a password sent by mistake is not.
        String shown = raw instanceof String s ? UrlSecrets.withoutUserInfo(s) : String.valueOf(raw);
        invalid.add(new JsonObject().put("index", i)
            .put("url", shown.length() > 200 ? shown.substring(0, 200) + "…" : shown)
            .put("detail", e.getMessage()));
      }
    }
    if (valid.isEmpty()) {
      // A job of nothing to do helps no one: say why each entry was left out.
      throw Failure.INVALID.exception("urls: no entry is a valid URL: " + reasons(invalid));
    }
    Long maxConcurrency = Fields.wholeNumber(j, "maxConcurrency", 1, CrawlSpec.MAX_CONCURRENCY);
    return new BatchSpec(new ArrayList<>(valid.values()), invalid, Fields.bool(j, "obeyRobots", true),
        List.copyOf(ContentFormats.from(j)), Webhook.validate(j.getValue("webhook")),
        maxConcurrency == null ? null : maxConcurrency.intValue(),
        Fields.wholeNumber(j, "maxAgeSeconds", 0, FetchRequest.MAX_AGE_LIMIT));
  }

  /** The first few entries' reasons, one after the other: enough to fix the request, bounded however long it was. */
  private static String reasons(JsonArray invalid) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < Math.min(MAX_REASONS, invalid.size()); i++) {
      out.append(i == 0 ? "" : "; ").append(invalid.getJsonObject(i).getString("detail"));
    }
    if (invalid.size() > MAX_REASONS) {
      out.append("; and ").append(invalid.size() - MAX_REASONS).append(" more");
    }
    return out.toString();
  }

  /** What is stored as the job's spec: the URLs themselves live in the frontier. */
  JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("urls", urls.size())
        .put("invalidUrls", invalidUrls)
        .put("maxDepth", 0)
        .put("limit", urls.size())
        .put("obeyRobots", obeyRobots)
        .put("formats", new JsonArray(formats))
        .put("webhook", webhook);
    CrawlSpec.putIfSet(json, "maxConcurrency", maxConcurrency);
    CrawlSpec.putIfSet(json, "maxAgeSeconds", maxAgeSeconds);
    return json;
  }
}
