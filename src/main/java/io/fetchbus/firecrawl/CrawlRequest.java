package io.fetchbus.firecrawl;

import io.fetchbus.bus.Failure;
import io.fetchbus.bus.Fields;
import io.fetchbus.bus.WebUrl;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.util.Set;
import java.util.TreeSet;

/**
 * A Firecrawl crawl request (v1 or v2), translated field by field to the spec of a Fetchbus crawl job
 * ({@code POST /v1/crawls}): each Firecrawl option becomes the crawl option that means the same, Firecrawl's
 * defaults included (the seed's path as the scope, no discovery depth bound, 10,000 pages); what no crawl option
 * can mean is refused with a 400 that says why.
 */
final class CrawlRequest {
  /** Fetchbus's bound on a crawl's link depth: Firecrawl has none by default, its limit bounds the crawl. */
  static final int MAX_DEPTH = 100;
  /** Firecrawl's default limit. */
  static final int DEFAULT_LIMIT = 10_000;
  /** Firecrawl v1's default maxDepth (path segments below the seed's). */
  static final int V1_MAX_PATH_DEPTH = 10;
  private static final Set<String> COMMON = Set.of("url", "includePaths", "excludePaths", "maxDiscoveryDepth", "limit",
      "crawlEntireDomain", "allowExternalLinks", "allowSubdomains", "ignoreRobotsTxt", "deduplicateSimilarURLs",
      "ignoreQueryParameters", "regexOnFullURL", "delay", "maxConcurrency", "webhook", "scrapeOptions", "origin",
      "integration", "zeroDataRetention");
  private static final Set<String> V1 = union(COMMON, Set.of("maxDepth", "allowBackwardLinks", "ignoreSitemap"));
  private static final Set<String> V2 = union(COMMON, Set.of("sitemap", "prompt", "robotsUserAgent"));

  private CrawlRequest() {}

  /** The crawl spec for {@code body} of a {@code /v<version>/crawl} request; {@code maxLimit} is crawl.maxLimit. */
  static JsonObject spec(JsonObject body, int version, int maxLimit) {
    Set<String> unknown = new TreeSet<>(body.fieldNames());
    unknown.removeAll(version == 1 ? V1 : V2);
    if (!unknown.isEmpty()) {
      throw Failure.INVALID.exception(String.join(", ", unknown) + ": not a v" + version + " crawl option Fetchbus"
          + " knows (see docs/firecrawl.md)");
    }
    refuse(body);
    WebUrl url = WebUrl.parse("url", body.getValue("url"));
    JsonObject spec = new JsonObject().put("url", url.toString());
    for (String same : new String[] {"includePaths", "excludePaths", "regexOnFullURL", "allowSubdomains",
        "allowExternalLinks", "ignoreQueryParameters", "maxConcurrency"}) {
      if (body.getValue(same) != null) {
        spec.put(same, body.getValue(same));
      }
    }
    Long depth = Fields.wholeNumber(body, "maxDiscoveryDepth", 0, MAX_DEPTH);
    spec.put("maxDepth", depth == null ? MAX_DEPTH : depth.intValue());
    Long limit = Fields.wholeNumber(body, "limit", 1, Integer.MAX_VALUE);
    spec.put("limit", limit == null ? Math.min(DEFAULT_LIMIT, maxLimit) : limit);
    if (Fields.bool(body, "ignoreRobotsTxt", false)) {
      spec.put("obeyRobots", false);
    }
    spec.put("sitemap", sitemap(body, version));
    if (version == 1) {
      Long pathDepth = Fields.wholeNumber(body, "maxDepth", 0, MAX_DEPTH);
      spec.put("maxPathDepth", pathDepth == null ? V1_MAX_PATH_DEPTH : pathDepth.intValue());
    }
    Object entire = body.getValue("crawlEntireDomain") != null ? body.getValue("crawlEntireDomain")
        : version == 1 ? body.getValue("allowBackwardLinks") : null;
    if (entire != null && !(entire instanceof Boolean)) {
      throw Failure.INVALID.exception("crawlEntireDomain: must be true or false");
    }
    // Firecrawl's default: only the links under the seed's path (a string prefix of the path).
    String seedPath = URI.create(url.key()).getRawPath();
    if (!Boolean.TRUE.equals(entire) && seedPath != null && !seedPath.isEmpty() && !seedPath.equals("/")) {
      spec.put("pathPrefix", seedPath);
    }
    Object options = body.getValue("scrapeOptions");
    if (options != null && !(options instanceof JsonObject)) {
      throw Failure.INVALID.exception("scrapeOptions: must be an object");
    }
    ScrapeOptions scrape = ScrapeOptions.from(options == null ? new JsonObject() : (JsonObject) options, Set.of(),
        "scrapeOptions.", "a scrape option");
    spec.put("formats", scrape.fetchbusFormats());
    if (scrape.maxAgeSeconds() != null) {
      spec.put("maxAgeSeconds", scrape.maxAgeSeconds());
    }
    if (body.getValue("webhook") != null) {
      spec.put("webhook", FirecrawlWebhook.of(body.getValue("webhook")));
    }
    return spec;
  }

  private static String sitemap(JsonObject body, int version) {
    if (version == 1) {
      return Fields.bool(body, "ignoreSitemap", false) ? "skip" : "include";
    }
    String sitemap = Fields.string(body, "sitemap", 16);
    if (sitemap == null) {
      return "include";
    }
    if (!Set.of("include", "skip", "only").contains(sitemap)) {
      throw Failure.INVALID.exception("sitemap: must be include, skip or only");
    }
    return sitemap;
  }

  /** What Firecrawl does and Fetchbus cannot, each with why. */
  private static void refuse(JsonObject body) {
    if (body.getValue("prompt") != null) {
      throw Failure.INVALID.exception("prompt: Fetchbus has no LLM to turn a prompt into crawl options; give them"
          + " as fields");
    }
    if (body.getValue("robotsUserAgent") != null) {
      throw Failure.INVALID.exception("robotsUserAgent: Fetchbus reads robots.txt as its own user agent"
          + " (fetch.userAgent); ignoreRobotsTxt: true skips robots.txt");
    }
    if (Boolean.TRUE.equals(body.getValue("deduplicateSimilarURLs"))) {
      throw Failure.INVALID.exception("deduplicateSimilarURLs: Fetchbus does not take www. and non-www., or http and"
          + " https, for one page; it dedups URLs by their canonical form only (send false, or leave it out)");
    }
    if (body.getValue("delay") instanceof Number n && n.doubleValue() > 0) {
      throw Failure.INVALID.exception("delay: Fetchbus has no per-job delay between fetches; it paces fetches per host"
          + " for every job (fetch.perHostDelayMs, robots.txt Crawl-delay). maxConcurrency: 1 fetches one page at a"
          + " time");
    }
    refuseZeroDataRetention(body);
  }

  static void refuseZeroDataRetention(JsonObject body) {
    if (Boolean.TRUE.equals(body.getValue("zeroDataRetention"))) {
      throw Failure.INVALID.exception("zeroDataRetention: Fetchbus stores every page it fetches (retention.* says for"
          + " how long), so it cannot promise zero data retention");
    }
  }

  static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> out = new TreeSet<>(a);
    out.addAll(b);
    return Set.copyOf(out);
  }
}
