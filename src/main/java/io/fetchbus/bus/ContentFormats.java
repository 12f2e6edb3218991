package io.fetchbus.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The content formats a client can ask for: {@code html} (the stored body), {@code text}, {@code markdown},
 * {@code links} and {@code metadata} (title, description, canonical URL, language, Open Graph).
 */
public final class ContentFormats {
  public static final List<String> ALL = List.of("html", "text", "markdown", "links", "metadata");
  /**
   * Extracted from every HTML page when it is stored: metadata, the text (which the search index is built from) and
   * the links (which a crawl follows). Markdown, the costliest to make and rarely all wanted, is made when it is
   * asked for: at store time if the request or the job asks, else on the first read that asks, and then kept.
   */
  public static final List<String> EXTRACTED = List.of("metadata", "text", "links");
  public static final String MARKDOWN = "markdown";
  public static final Set<String> DEFAULT = Set.of("metadata");
  private static final String KNOWN = "use html, text, markdown, links or metadata";

  private ContentFormats() {}

  /** What to extract from a page stored for a request or job that asked for {@code asked}. */
  public static List<String> toStore(Collection<String> asked) {
    if (!asked.contains(MARKDOWN)) {
      return EXTRACTED;
    }
    List<String> out = new ArrayList<>(EXTRACTED);
    out.add(MARKDOWN);
    return out;
  }

  /** {@code formats} of a request: an array of known names, or a comma-separated string (query parameters). */
  public static Set<String> from(JsonObject json) {
    Object v = json.getValue("formats");
    if (v == null) {
      return DEFAULT;
    }
    List<?> names;
    if (v instanceof JsonArray a) {
      names = a.getList();
    } else if (v instanceof String s) {
      names = List.of(s.split(","));
    } else {
      throw Failure.INVALID.exception("formats: must be an array of format names; " + KNOWN);
    }
    if (names.size() > ALL.size() * 2) {
      throw Failure.INVALID.exception("formats: too many entries");
    }
    Set<String> out = new LinkedHashSet<>();
    for (Object name : names) {
      String n = String.valueOf(name).strip();
      if (!ALL.contains(n)) {
        throw Failure.INVALID.exception("formats: unknown format '" + n + "'; " + KNOWN);
      }
      out.add(n);
    }
    return out;
  }
}
