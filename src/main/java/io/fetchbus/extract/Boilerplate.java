package io.fetchbus.extract;

import java.util.Set;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.select.Evaluator;
import org.jsoup.select.QueryParser;
import org.jsoup.select.Elements;

/** Strips what is not the page's own content (scripts, menus, banners, forms) from a page. */
final class Boilerplate {
  // Selectors are parsed once: jsoup parses a query string on every select() (evaluators are thread-safe).
  private static final Evaluator NEVER_CONTENT = QueryParser.parse("script, style, noscript, template, svg, iframe, "
      + "nav, aside, form, [role=navigation], [role=banner], [role=contentinfo], [role=complementary], [role=search]");
  private static final Evaluator HEADER_FOOTER = QueryParser.parse("header, footer");
  private static final Evaluator MAIN = QueryParser.parse("main");
  private static final Evaluator OUTERMOST_ARTICLE = QueryParser.parse("article:not(article article)");
  /**
   * A header or footer inside these belongs to that part (an article's title and byline), not to the page;
   * HTML gives only the page-level ones the banner and contentinfo roles.
   */
  private static final Set<String> SECTIONING = Set.of("article", "main", "section");

  private Boilerplate() {}

  /**
   * The page's body without boilerplate, stripped in place: call it once metadata and links, which see the whole
   * page, have been read (a clone of the tree cost a fifth of an extraction).
   */
  static Element strip(Document page) {
    page.select(NEVER_CONTENT).remove();
    for (Element el : page.select(HEADER_FOOTER)) {
      if (el.parents().stream().noneMatch(p -> SECTIONING.contains(p.normalName()))) {
        el.remove();
      }
    }
    return page.body();
  }

  /**
   * The main content of a stripped body: its {@code <main>}, else its only outermost {@code <article>}, else all
   * of it (several articles side by side are a listing, where none is the content on its own).
   */
  static Element mainContent(Element body) {
    Element main = body.selectFirst(MAIN);
    if (main != null) {
      return main;
    }
    Elements outermost = body.select(OUTERMOST_ARTICLE);
    return outermost.size() == 1 ? outermost.first() : body;
  }
}
