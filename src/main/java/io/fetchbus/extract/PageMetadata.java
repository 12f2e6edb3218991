package io.fetchbus.extract;

import io.vertx.core.json.JsonObject;
import java.util.Locale;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;

/**
 * What a page says about itself in its head: {@code {"title","description","canonicalUrl","language","openGraph"}},
 * each null (openGraph empty) when the page does not say.
 */
final class PageMetadata {
  private static final int MAX_VALUE = 10_000;

  private PageMetadata() {}

  static JsonObject of(Document page, String title) {
    return new JsonObject()
        .put("title", title)
        .put("description", metaContent(page, "meta[name=description]"))
        .put("canonicalUrl", canonicalUrl(page))
        .put("language", language(page))
        .put("openGraph", openGraph(page));
  }

  /** Resolved against the page (and its {@code <base>}), normalised like every link. */
  private static String canonicalUrl(Document page) {
    for (Element link : page.select("link[rel][href]")) {
      for (String rel : link.attr("rel").toLowerCase(Locale.ROOT).split("\\s+")) {
        if (rel.equals("canonical")) {
          return PageLinks.normalise(PageLinks.absolute(link, "href"));
        }
      }
    }
    return null;
  }

  private static String language(Document page) {
    Element html = page.selectFirst("html");
    String lang = html == null ? "" : html.attr("lang").strip();
    return lang.isEmpty() ? metaContent(page, "meta[http-equiv=content-language]") : Texts.cap(lang, MAX_VALUE);
  }

  /** {@code og:image} becomes {@code "image"}; for a repeated property the first one counts. */
  private static JsonObject openGraph(Document page) {
    JsonObject og = new JsonObject();
    for (Element meta : page.select("meta[property^=og:][content]")) {
      String key = meta.attr("property").strip().substring(3).toLowerCase(Locale.ROOT);
      if (!key.isEmpty() && !og.containsKey(key)) {
        og.put(key, Texts.cap(meta.attr("content").strip(), MAX_VALUE));
      }
    }
    return og;
  }

  private static String metaContent(Document page, String selector) {
    Element meta = page.selectFirst(selector + "[content]");
    String content = meta == null ? "" : meta.attr("content").strip();
    return content.isEmpty() ? null : Texts.cap(content, MAX_VALUE);
  }
}
