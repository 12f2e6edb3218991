package io.fetchbus.crawl;

import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FetchRequest;
import io.fetchbus.bus.Fields;
import io.fetchbus.bus.ContentFormats;
import io.fetchbus.bus.WebUrl;
import io.fetchbus.webhook.Webhook;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A crawl as a client asks for it, validated field by field (a 400 names the field), with every default
 * filled in. {@code maxDepth}: a page's depth is its shortest link distance from the seed (depth 0), whatever
 * order it is found in; pages deeper than {@code maxDepth} are never fetched. {@code limit} caps the pages stored.
 * The options a crawl may go without are null when absent: {@code pathPrefix} (links whose canonical path starts
 * with it), {@code maxPathDepth} (links whose path has at most that many segments more than the seed's),
 * {@code maxConcurrency} (the job's fetches in flight, all nodes together) and {@code maxAgeSeconds} (a copy in
 * the fetch cache at most that old answers instead of a fetch).
 */
record CrawlSpec(WebUrl url, int maxDepth, int limit, List<String> includePaths, List<String> excludePaths,
                 boolean regexOnFullURL, boolean allowSubdomains, boolean allowExternalLinks,
                 boolean ignoreQueryParameters, String sitemap, boolean obeyRobots, List<String> formats,
                 JsonObject webhook, String pathPrefix, Integer maxPathDepth, Integer maxConcurrency,
                 Long maxAgeSeconds) {
  static final int MAX_DEPTH = 100;
  static final int MAX_PATTERNS = 100;
  static final int MAX_PATTERN_LENGTH = 1000;
  static final int MAX_CONCURRENCY = 1000;
  static final Set<String> SITEMAP_MODES = Set.of("include", "skip", "only");
  private static final Set<String> FIELDS = Set.of("url", "maxDepth", "limit", "includePaths", "excludePaths",
      "regexOnFullURL", "allowSubdomains", "allowExternalLinks", "ignoreQueryParameters", "sitemap", "obeyRobots",
      "formats", "webhook", "pathPrefix", "maxPathDepth", "maxConcurrency", "maxAgeSeconds");

  static CrawlSpec from(JsonObject j, int maxLimit) {
    Fields.onlyKnown(j, FIELDS, "crawl option");
    WebUrl url = WebUrl.parse("url", j.getValue("url"));
    String sitemap = j.getValue("sitemap") == null ? "include" : Fields.string(j, "sitemap", 16);
    if (!SITEMAP_MODES.contains(sitemap)) {
      throw Failure.INVALID.exception("sitemap: must be one of include, skip, only; got '" + sitemap + "'");
    }
    return new CrawlSpec(url, whole(j, "maxDepth", 0, MAX_DEPTH, 2), whole(j, "limit", 1, maxLimit, 1000),
        patterns(j, "includePaths"), patterns(j, "excludePaths"), Fields.bool(j, "regexOnFullURL", false),
        Fields.bool(j, "allowSubdomains", false), Fields.bool(j, "allowExternalLinks", false),
        Fields.bool(j, "ignoreQueryParameters", false), sitemap, Fields.bool(j, "obeyRobots", true),
        List.copyOf(ContentFormats.from(j)), Webhook.validate(j.getValue("webhook")), pathPrefix(j, url),
        optionalWhole(j, "maxPathDepth", 0, MAX_DEPTH), optionalWhole(j, "maxConcurrency", 1, MAX_CONCURRENCY),
        Fields.wholeNumber(j, "maxAgeSeconds", 0, FetchRequest.MAX_AGE_LIMIT));
  }

  private static Integer optionalWhole(JsonObject j, String field, int min, int max) {
    Long n = Fields.wholeNumber(j, field, min, max);
    return n == null ? null : n.intValue();
  }

  /**
   * The prefix in the canonical form links are compared in (the seed's origin makes it a URL to canonicalise): a
   * prefix written with other percent-encoding still matches the links it means.
   */
  private static String pathPrefix(JsonObject j, WebUrl seed) {
    String prefix = Fields.string(j, "pathPrefix", WebUrl.MAX_LENGTH);
    if (prefix == null) {
      return null;
    }
    if (!prefix.startsWith("/") || prefix.contains("?") || prefix.contains("#")) {
      throw Failure.INVALID.exception("pathPrefix: must be a path starting with '/', without a query or fragment");
    }
    WebUrl asUrl = WebUrl.parse("pathPrefix", seed.siteRoot() + prefix);
    return CrawlScope.pathOf(asUrl.key());
  }

  private static int whole(JsonObject j, String field, int min, int max, int dflt) {
    Long n = Fields.wholeNumber(j, field, min, max);
    return n == null ? dflt : n.intValue();
  }

  static CrawlSpec from(JsonObject stored) {
    return from(stored, Integer.MAX_VALUE);
  }

  /** Regular expressions, each compiled here so that a broken one is a 400 now rather than a surprise later. */
  private static List<String> patterns(JsonObject j, String field) {
    Object v = j.getValue(field);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof JsonArray a)) {
      throw Failure.INVALID.exception(field + ": must be an array of regular expressions");
    }
    if (a.size() > MAX_PATTERNS) {
      throw Failure.INVALID.exception(field + ": at most " + MAX_PATTERNS + " patterns, got " + a.size());
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < a.size(); i++) {
      if (!(a.getValue(i) instanceof String p) || p.isEmpty() || p.length() > MAX_PATTERN_LENGTH) {
        throw Failure.INVALID.exception(field + "[" + i + "]: must be a non-empty string of at most "
            + MAX_PATTERN_LENGTH + " characters");
      }
      try {
        Pattern.compile(p);
      } catch (PatternSyntaxException e) {
        throw Failure.INVALID.exception(field + "[" + i + "]: is not a valid regular expression: "
            + e.getDescription() + " near index " + e.getIndex());
      }
      out.add(p);
    }
    return out;
  }

  JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("url", url.toString())
        .put("maxDepth", maxDepth)
        .put("limit", limit)
        .put("includePaths", new JsonArray(includePaths))
        .put("excludePaths", new JsonArray(excludePaths))
        .put("regexOnFullURL", regexOnFullURL)
        .put("allowSubdomains", allowSubdomains)
        .put("allowExternalLinks", allowExternalLinks)
        .put("ignoreQueryParameters", ignoreQueryParameters)
        .put("sitemap", sitemap)
        .put("obeyRobots", obeyRobots)
        .put("formats", new JsonArray(formats))
        .put("webhook", webhook);
    // Only when set: the records of jobs made without them stay as they were.
    putIfSet(json, "pathPrefix", pathPrefix);
    putIfSet(json, "maxPathDepth", maxPathDepth);
    putIfSet(json, "maxConcurrency", maxConcurrency);
    putIfSet(json, "maxAgeSeconds", maxAgeSeconds);
    return json;
  }

  static void putIfSet(JsonObject json, String field, Object value) {
    if (value != null) {
      json.put(field, value);
    }
  }
}
