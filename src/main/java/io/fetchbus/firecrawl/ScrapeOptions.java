package io.fetchbus.firecrawl;

import io.fetchbus.bus.Failure;
import io.fetchbus.bus.Fields;
import io.fetchbus.bus.FirecrawlDocument;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Firecrawl's scrape options (v1 and v2), as a scrape takes them and as a crawl's {@code scrapeOptions} and a batch
 * scrape's body hold them: checked, and what Fetchbus cannot do refused with a 400 that says so, never silently
 * dropped, since a client must not believe it got what it asked. {@code prefix} names where they are in messages
 * ({@code "scrapeOptions."} in a crawl).
 */
record ScrapeOptions(Set<String> formats, Long maxAgeSeconds) {
  /** ContentFormats Firecrawl has and Fetchbus does not make, with why. */
  private static final Map<String, String> REFUSED_FORMATS = Map.ofEntries(
      Map.entry("screenshot", "Fetchbus does not run a browser, so it takes no screenshots"),
      Map.entry("screenshot@fullPage", "Fetchbus does not run a browser, so it takes no screenshots"),
      Map.entry("json", "Fetchbus does no LLM extraction (json format)"),
      Map.entry("extract", "Fetchbus does no LLM extraction (extract format)"),
      Map.entry("summary", "Fetchbus does no LLM summaries"),
      Map.entry("changeTracking", "Fetchbus does not do change tracking"),
      Map.entry("branding", "Fetchbus does not extract branding"),
      Map.entry("images", "Fetchbus does not list a page's images"),
      Map.entry("attributes", "Fetchbus does not extract attributes"));
  /** The scrape options Fetchbus knows: those it uses, and those that change nothing here (the SDKs' own...). */
  static final Set<String> FIELDS = Set.of("origin", "integration", "timeout", "skipTlsVerification",
      "removeBase64Images", "blockAds", "storeInCache", "zeroDataRetention", "fastMode", "useMock", "parsers",
      "onlyMainContent", "waitFor", "mobile", "proxy", "headers", "actions", "location", "includeTags", "excludeTags",
      "jsonOptions", "extract", "changeTrackingOptions", "formats", "maxAge");

  /** The options of {@code body}, whose other fields must be in {@code more}; {@code what} names them in a 400. */
  static ScrapeOptions from(JsonObject body, Set<String> more, String prefix, String what) {
    Set<String> unknown = new TreeSet<>(body.fieldNames());
    unknown.removeAll(FIELDS);
    unknown.removeAll(more);
    if (!unknown.isEmpty()) {
      throw Failure.INVALID.exception(prefix + String.join(", " + prefix, unknown) + ": not " + what
          + " Fetchbus knows (see docs/firecrawl.md)");
    }
    refuseUnsupported(body, prefix);
    Long maxAgeMs = Fields.wholeNumber(body, "maxAge", 0, 315_360_000_000L);
    Fields.wholeNumber(body, "timeout", 1, 3_600_000); // checked; fetch.timeoutMs bounds every fetch
    Set<String> formats = formats(body.getValue("formats"), prefix);
    if (formats.contains("markdown") && Boolean.FALSE.equals(body.getValue("onlyMainContent"))) {
      throw Failure.INVALID.exception(prefix + "onlyMainContent: Fetchbus's markdown is always the page's main content;"
          + " false is not supported (ask for html or rawHtml for the whole page)");
    }
    return new ScrapeOptions(formats, maxAgeMs == null ? null : maxAgeMs / 1000);
  }

  /** The Fetchbus formats that make these Firecrawl formats. */
  JsonArray fetchbusFormats() {
    return new JsonArray(FirecrawlDocument.fetchbusFormats(formats));
  }

  private static void refuseUnsupported(JsonObject body, String prefix) {
    if (body.getValue("actions") instanceof JsonArray actions && !actions.isEmpty()
        || body.getValue("actions") != null && !(body.getValue("actions") instanceof JsonArray)) {
      throw invalid(prefix, "actions: Fetchbus does not run a browser, so it cannot perform actions");
    }
    if (body.getValue("waitFor") instanceof Number n && n.doubleValue() > 0) {
      throw invalid(prefix, "waitFor: Fetchbus does not run a browser, so it cannot wait for a page to render");
    }
    if (Boolean.TRUE.equals(body.getValue("mobile"))) {
      throw invalid(prefix, "mobile: Fetchbus does not emulate mobile devices");
    }
    if (body.getValue("location") != null) {
      throw invalid(prefix, "location: Fetchbus fetches from where it runs; it has no proxies by country");
    }
    Object proxy = body.getValue("proxy");
    if (proxy != null && !"basic".equals(proxy) && !"auto".equals(proxy)) {
      throw invalid(prefix, "proxy: Fetchbus has no " + proxy + " proxies; it fetches directly (basic)");
    }
    if (body.getValue("jsonOptions") != null || body.getValue("extract") != null) {
      throw invalid(prefix, "jsonOptions: Fetchbus does no LLM extraction");
    }
    if (body.getValue("changeTrackingOptions") != null) {
      throw invalid(prefix, "changeTrackingOptions: Fetchbus does not do change tracking");
    }
    for (String tags : List.of("includeTags", "excludeTags")) {
      if (body.getValue(tags) instanceof JsonArray a && !a.isEmpty()) {
        throw invalid(prefix, tags + ": Fetchbus does not filter pages by tag; its markdown is the page's main content");
      }
    }
    if (Boolean.TRUE.equals(body.getValue("zeroDataRetention"))) {
      throw invalid(prefix, "zeroDataRetention: Fetchbus stores every page it fetches (retention.* says for how long),"
          + " so it cannot promise zero data retention");
    }
    if (Boolean.FALSE.equals(body.getValue("storeInCache"))) {
      throw invalid(prefix, "storeInCache: Fetchbus stores every page it fetches, and later requests may be answered"
          + " with it; it cannot leave a page out");
    }
    if (body.getValue("headers") instanceof JsonObject headers && !headers.isEmpty()) {
      for (String name : headers.fieldNames()) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.equals("authorization") || lower.equals("cookie") || lower.equals("proxy-authorization")) {
          throw invalid(prefix, "headers: " + name + " is refused: Fetchbus shares fetched pages between clients and"
              + " follows redirects to other origins, so credentials would leak");
        }
      }
      throw invalid(prefix, "headers: Fetchbus does not send custom request headers");
    }
  }

  private static RuntimeException invalid(String prefix, String detail) {
    return Failure.INVALID.exception(prefix + detail);
  }

  /** Firecrawl's formats: names (v1, v2) or {@code {"type": name, ...}} objects (v2); markdown by default. */
  private static Set<String> formats(Object value, String prefix) {
    if (value == null) {
      return Set.of("markdown");
    }
    if (!(value instanceof JsonArray list) || list.size() > 20) {
      throw invalid(prefix, "formats: must be an array of at most 20 formats");
    }
    Set<String> out = new LinkedHashSet<>();
    for (Object entry : list) {
      Object name = entry instanceof JsonObject o ? o.getValue("type") : entry;
      if (!(name instanceof String n)) {
        throw invalid(prefix, "formats: each must be a format name or {\"type\": name}");
      }
      String why = REFUSED_FORMATS.get(n);
      if (why != null) {
        throw invalid(prefix, "formats: " + why + " ('" + n + "')");
      }
      if (!FirecrawlDocument.FORMATS.contains(n)) {
        throw invalid(prefix, "formats: unknown format '" + n + "'; Fetchbus makes markdown, html, rawHtml and links");
      }
      out.add(n);
    }
    if (out.isEmpty()) {
      throw invalid(prefix, "formats: at least one format");
    }
    return out;
  }
}
