package io.fetchbus.firecrawl;

import io.fetchbus.bus.Failure;
import io.fetchbus.bus.Fields;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A Firecrawl scrape request (v1 or v2), checked and translated to a Fetchbus fetch request. What Fetchbus cannot
 * do is refused with a 400 that says so, never silently dropped: a client must not believe it got what it asked.
 */
record ScrapeRequest(String url, Set<String> formats, Long maxAgeSeconds) {
  /** The Firecrawl formats Fetchbus makes, and the Fetchbus format each comes from. */
  private static final Map<String, String> FORMATS = Map.of("markdown", "markdown", "html", "html", "rawHtml", "html",
      "links", "links");
  /** Formats Firecrawl has and Fetchbus does not make, with why. */
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
  /** Fields Fetchbus accepts and has nothing to do with (the SDKs' own, and options that change nothing here). */
  private static final Set<String> IGNORED = Set.of("origin", "integration", "timeout", "skipTlsVerification",
      "removeBase64Images", "blockAds", "storeInCache", "zeroDataRetention", "fastMode", "useMock", "parsers",
      "onlyMainContent", "waitFor", "mobile", "proxy", "headers", "actions", "location", "includeTags", "excludeTags",
      "jsonOptions", "extract", "changeTrackingOptions", "url", "formats", "maxAge");

  static ScrapeRequest from(JsonObject body) {
    Set<String> unknown = new TreeSet<>(body.fieldNames());
    unknown.removeAll(IGNORED);
    if (!unknown.isEmpty()) {
      throw Failure.INVALID.exception(String.join(", ", unknown) + ": not a scrape option Fetchbus knows"
          + " (see docs/firecrawl.md)");
    }
    Object url = body.getValue("url");
    if (!(url instanceof String u) || u.isBlank()) {
      throw Failure.INVALID.exception("url: a URL is required");
    }
    refuseUnsupported(body);
    Long maxAgeMs = Fields.wholeNumber(body, "maxAge", 0, 315_360_000_000L);
    Fields.wholeNumber(body, "timeout", 1, 3_600_000); // checked; fetch.timeoutMs bounds every fetch
    Set<String> formats = formats(body.getValue("formats"));
    if (formats.contains("markdown") && Boolean.FALSE.equals(body.getValue("onlyMainContent"))) {
      throw Failure.INVALID.exception("onlyMainContent: Fetchbus's markdown is always the page's main content;"
          + " false is not supported (ask for html or rawHtml for the whole page)");
    }
    return new ScrapeRequest(u.strip(), formats, maxAgeMs == null ? null : maxAgeMs / 1000);
  }

  /** The body of Fetchbus's own {@code POST /v1/fetch} for this request. */
  JsonObject fetchBody() {
    Set<String> fetchbus = new LinkedHashSet<>(List.of("metadata"));
    formats.forEach(f -> fetchbus.add(FORMATS.get(f)));
    JsonObject json = new JsonObject().put("url", url).put("formats", new JsonArray(List.copyOf(fetchbus)));
    if (maxAgeSeconds != null) {
      json.put("maxAgeSeconds", maxAgeSeconds);
    }
    return json;
  }

  private static void refuseUnsupported(JsonObject body) {
    if (body.getValue("actions") instanceof JsonArray actions && !actions.isEmpty()
        || body.getValue("actions") != null && !(body.getValue("actions") instanceof JsonArray)) {
      throw Failure.INVALID.exception("actions: Fetchbus does not run a browser, so it cannot perform actions");
    }
    if (body.getValue("waitFor") instanceof Number n && n.doubleValue() > 0) {
      throw Failure.INVALID.exception("waitFor: Fetchbus does not run a browser, so it cannot wait for a page to render");
    }
    if (Boolean.TRUE.equals(body.getValue("mobile"))) {
      throw Failure.INVALID.exception("mobile: Fetchbus does not emulate mobile devices");
    }
    if (body.getValue("location") != null) {
      throw Failure.INVALID.exception("location: Fetchbus fetches from where it runs; it has no proxies by country");
    }
    Object proxy = body.getValue("proxy");
    if (proxy != null && !"basic".equals(proxy) && !"auto".equals(proxy)) {
      throw Failure.INVALID.exception("proxy: Fetchbus has no " + proxy + " proxies; it fetches directly (basic)");
    }
    if (body.getValue("jsonOptions") != null || body.getValue("extract") != null) {
      throw Failure.INVALID.exception("jsonOptions: Fetchbus does no LLM extraction");
    }
    if (body.getValue("changeTrackingOptions") != null) {
      throw Failure.INVALID.exception("changeTrackingOptions: Fetchbus does not do change tracking");
    }
    for (String tags : List.of("includeTags", "excludeTags")) {
      if (body.getValue(tags) instanceof JsonArray a && !a.isEmpty()) {
        throw Failure.INVALID.exception(tags + ": Fetchbus does not filter pages by tag; its markdown is the page's"
            + " main content");
      }
    }
    if (body.getValue("headers") instanceof JsonObject headers && !headers.isEmpty()) {
      for (String name : headers.fieldNames()) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.equals("authorization") || lower.equals("cookie") || lower.equals("proxy-authorization")) {
          throw Failure.INVALID.exception("headers: " + name + " is refused: Fetchbus shares fetched pages between"
              + " clients and follows redirects to other origins, so credentials would leak");
        }
      }
      throw Failure.INVALID.exception("headers: Fetchbus does not send custom request headers");
    }
  }

  /** Firecrawl's formats: names (v1, v2) or {@code {"type": name, ...}} objects (v2); markdown by default. */
  private static Set<String> formats(Object value) {
    if (value == null) {
      return Set.of("markdown");
    }
    if (!(value instanceof JsonArray list) || list.size() > 20) {
      throw Failure.INVALID.exception("formats: must be an array of at most 20 formats");
    }
    Set<String> out = new LinkedHashSet<>();
    for (Object entry : list) {
      Object name = entry instanceof JsonObject o ? o.getValue("type") : entry;
      if (!(name instanceof String n)) {
        throw Failure.INVALID.exception("formats: each must be a format name or {\"type\": name}");
      }
      String why = REFUSED_FORMATS.get(n);
      if (why != null) {
        throw Failure.INVALID.exception("formats: " + why + " ('" + n + "')");
      }
      if (!FORMATS.containsKey(n)) {
        throw Failure.INVALID.exception("formats: unknown format '" + n + "'; Fetchbus makes markdown, html, rawHtml"
            + " and links");
      }
      out.add(n);
    }
    if (out.isEmpty()) {
      throw Failure.INVALID.exception("formats: at least one format");
    }
    return out;
  }
}
