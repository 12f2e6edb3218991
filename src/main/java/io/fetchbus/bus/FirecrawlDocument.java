package io.fetchbus.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A Fetchbus page record, as Firecrawl's API shows a scraped page: the content formats asked for, and {@code metadata}.
 * Shared by the Firecrawl routes (a scrape, a job's status) and the webhooks of jobs started through them, which are
 * made in different packages: one shape, made in one place.
 */
public final class FirecrawlDocument {
  /** The Firecrawl formats Fetchbus makes. */
  public static final List<String> FORMATS = List.of("markdown", "html", "rawHtml", "links");

  private FirecrawlDocument() {}

  /**
   * The document of {@code page} (a page record with the Fetchbus formats {@code markdown}, {@code html} and
   * {@code links} that {@code formats} needs): {@code html} and {@code rawHtml} are both the page as fetched,
   * Fetchbus keeps no cleaned copy. {@code sourceUrl} is the URL as asked or found, {@code metadata.url} the URL
   * after redirects.
   */
  public static JsonObject of(JsonObject page, String sourceUrl, Set<String> formats) {
    JsonObject data = new JsonObject();
    if (formats.contains("markdown")) {
      data.put("markdown", page.getString("markdown", ""));
    }
    if (formats.contains("html")) {
      data.put("html", page.getString("html"));
    }
    if (formats.contains("rawHtml")) {
      data.put("rawHtml", page.getString("html"));
    }
    if (formats.contains("links")) {
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
    metadata.put("sourceURL", sourceUrl)
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

  /**
   * The Firecrawl formats a job's documents carry, from the Fetchbus formats the job stores its pages with: html
   * gives both {@code html} and {@code rawHtml}, which are the same page here.
   */
  public static Set<String> formatsOf(Iterable<?> fetchbusFormats) {
    Set<String> out = new LinkedHashSet<>();
    for (Object format : fetchbusFormats) {
      switch (String.valueOf(format)) {
        case "markdown" -> out.add("markdown");
        case "html" -> {
          out.add("html");
          out.add("rawHtml");
        }
        case "links" -> out.add("links");
        default -> { }
      }
    }
    return out;
  }

  /** The Fetchbus formats a page record needs for a document of the Firecrawl {@code formats}. */
  public static List<String> fetchbusFormats(Set<String> formats) {
    Set<String> out = new LinkedHashSet<>(List.of("metadata"));
    formats.forEach(f -> out.add(f.equals("rawHtml") ? "html" : f));
    return List.copyOf(out);
  }
}
