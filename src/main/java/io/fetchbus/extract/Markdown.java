package io.fetchbus.extract;

import com.vladsch.flexmark.html2md.converter.FlexmarkHtmlConverter;
import com.vladsch.flexmark.util.data.MutableDataSet;
import java.util.ArrayList;
import java.util.List;
import org.jsoup.nodes.Element;
import org.jsoup.nodes.Node;
import org.jsoup.select.Evaluator;
import org.jsoup.select.NodeFilter.FilterResult;
import org.jsoup.select.NodeTraversor;
import org.jsoup.select.QueryParser;

/** Markdown of a page's main content, through flexmark's HTML-to-Markdown converter. */
final class Markdown {
  private static final Evaluator IMAGES = QueryParser.parse("img[src]");
  // Immutable once built and keeps no state between conversions, so one instance serves every worker thread.
  private static final FlexmarkHtmlConverter CONVERTER = FlexmarkHtmlConverter.builder(new MutableDataSet()
      .set(FlexmarkHtmlConverter.SETEXT_HEADINGS, false)  // "# Title" on one line, whatever the level
      .set(FlexmarkHtmlConverter.OUTPUT_UNKNOWN_TAGS, false)
      .set(FlexmarkHtmlConverter.TYPOGRAPHIC_QUOTES, false)  // keep the page's own quotes and dashes
      .set(FlexmarkHtmlConverter.TYPOGRAPHIC_SMARTS, false))
      .build();
  /**
   * Flexmark looks at a paragraph's siblings through {@code parent.childNodes()}, which jsoup answers with a fresh
   * copy, so a parent with n children costs about n² (80,000 paragraphs side by side took 7 s). Content past this
   * much work, about 14,000 siblings under one parent, is left out, as text past its length cap is; ordinary
   * pages, even long ones, stay far below it because their children are spread over many parents.
   */
  private static final long MAX_WORK = 200_000_000L;

  private Markdown() {}

  /** Converts {@code content} in place: links and images are made absolute so that they work away from the page. */
  static String of(Element content) {
    truncateToBudget(content);
    absolutise(content, PageLinks.ANCHORS, "href");
    absolutise(content, IMAGES, "src");
    return CONVERTER.convert(content).strip();
  }

  private static void absolutise(Element content, Evaluator selector, String attribute) {
    for (Element el : content.select(selector)) {
      String absolute = PageLinks.absolute(el, attribute);
      if (!absolute.isEmpty()) {
        el.attr(attribute, absolute);
      }
    }
  }

  /**
   * Keeps the content up to the node where the estimated work passes MAX_WORK. Each level is cut by emptying the
   * parent and putting back what stays: removing nodes one by one makes jsoup search and re-number the siblings
   * every time, which would itself be quadratic.
   */
  private static void truncateToBudget(Element content) {
    Node cut = firstOverBudget(content);
    for (Node node = cut; node != null && node != content; ) {
      Element parent = node.parentElement();
      int kept = node == cut ? node.siblingIndex() : node.siblingIndex() + 1;
      List<Node> stays = new ArrayList<>(parent.childNodes().subList(0, kept));
      parent.empty();
      parent.appendChildren(stays);
      node = parent;
    }
  }

  private static Node firstOverBudget(Element content) {
    Node[] cut = {null};
    long[] work = {0};
    NodeTraversor.filter((node, depth) -> {
      if (node != content) {
        work[0] += node.parentNode().childNodeSize();
        if (work[0] > MAX_WORK) {
          cut[0] = node;
          return FilterResult.STOP;
        }
      }
      return FilterResult.CONTINUE;
    }, content);
    return cut[0];
  }
}
