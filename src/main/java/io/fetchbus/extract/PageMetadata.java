package io.fetchbus.extract;

import io.vertx.core.json.JsonObject;
import java.util.Locale;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.select.Evaluator;
import org.jsoup.select.QueryParser;

/**
 * What a page says about itself in its head: {@code {"title","description","canonicalUrl","language","openGraph"}},
 * each null (openGraph empty) when the page does not say.
 */
final class PageMetadata {
  // Parsed once: jsoup parses a query string on every select() (evaluators are thread-safe).
  private static final Evaluator DESCRIPTION = QueryParser.parse("meta[name=description][content]");
  private static final Evaluator CONTENT_LANGUAGE = QueryParser.parse("meta[http-equiv=content-language][content]");
  private static final Evaluator LINKS = QueryParser.parse("link[rel][href]");
  private static final Evaluator HTML = QueryParser.parse("html");
  private static final Evaluator OPEN_GRAPH = QueryParser.parse("meta[property^=og:][content]");
  private static final int MAX_VALUE = 10_000;

  private PageMetadata() {}

  static JsonObject of(Document page, String title) {
    return new JsonObject()
        .put("title", title)
        .put("description", metaContent(page, DESCRIPTION))
        .put("canonicalUrl", canonicalUrl(page))
        .put("language", language(page))
        .put("openGraph", openGraph(page));
  }

  /** Resolved against the page (and its {@code <base>}), normalised like every link. */
  private static String canonicalUrl(Document page) {
    for (Element link : page.select(LINKS)) {
      for (String rel : link.attr("rel").toLowerCase(Locale.ROOT).split("\\s+")) {
        if (rel.equals("canonical")) {
          return PageLinks.normalise(PageLinks.absolute(link, "href"));
        }
      }
    }
    return null;
  }

  private static String language(Document page) {
    Element html = page.selectFirst(HTML);
    String lang = html == null ? "" : html.attr("lang").strip();
    return lang.isEmpty() ? metaContent(page, CONTENT_LANGUAGE) : Texts.cap(lang, MAX_VALUE);
  }

  /** {@code og:image} becomes {@code "image"}; for a repeated property the first one counts. */
  private static JsonObject openGraph(Document page) {
    JsonObject og = new JsonObject();
    for (Element meta : page.select(OPEN_GRAPH)) {
      String key = meta.attr("property").strip().substring(3).toLowerCase(Locale.ROOT);
      if (!key.isEmpty() && !og.containsKey(key)) {
        og.put(key, Texts.cap(meta.attr("content").strip(), MAX_VALUE));
      }
    }
    return og;
  }

  private static String metaContent(Document page, Evaluator selector) {
    Element meta = page.selectFirst(selector);
    String content = meta == null ? "" : meta.attr("content").strip();
    return content.isEmpty() ? null : Texts.cap(content, MAX_VALUE);
  }
}
