package io.fetchbus.extract;

import io.fetchbus.bus.WebUrl;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.Set;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.select.Evaluator;
import org.jsoup.select.QueryParser;

/** The page's outgoing http(s) links as {@code [{"url","text"}]}, in page order, each URL once. */
final class PageLinks {
  static final int MAX_LINKS = 10_000;
  private static final int MAX_TEXT = 1000;
  static final Evaluator ANCHORS = QueryParser.parse("a[href]");

  private PageLinks() {}

  static JsonArray of(Document page) {
    JsonArray links = new JsonArray();
    Set<String> seen = new HashSet<>();
    Set<String> hrefs = new HashSet<>();  // pages repeat the same href a lot: normalise each one only once
    for (Element a : page.select(ANCHORS)) {
      String href = absolute(a, "href");
      String url = hrefs.add(href) ? normalise(href) : null;
      if (url != null && seen.add(url)) {
        links.add(new JsonObject().put("url", url).put("text", Texts.cap(a.text().strip(), MAX_TEXT)));
        if (links.size() == MAX_LINKS) {
          break;
        }
      }
    }
    return links;
  }

  /**
   * The attribute resolved against the page URL, or against its {@code <base href>} when it has one; empty when it
   * cannot be resolved. Inner spaces are percent-encoded, as browsers do, so that such links stay valid URLs.
   */
  static String absolute(Element el, String attribute) {
    return el.absUrl(attribute).replace(" ", "%20");
  }

  /**
   * The canonical key used for URLs everywhere in Fetchbus (lower-case scheme and host, no fragment, no default
   * port), or null for what cannot be fetched: other schemes (javascript:, mailto:), malformed URLs, or an empty
   * string, which is what jsoup's absUrl gives for an href it cannot resolve.
   */
  static String normalise(String absoluteUrl) {
    if (absoluteUrl.isEmpty()) {
      return null;
    }
    try {
      return WebUrl.parse("href", absoluteUrl).key();
    } catch (ReplyException invalid) {
      return null;
    }
  }
}
