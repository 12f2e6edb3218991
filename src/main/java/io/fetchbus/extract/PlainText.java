package io.fetchbus.extract;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.jsoup.nodes.Element;
import org.jsoup.nodes.Node;
import org.jsoup.nodes.TextNode;
import org.jsoup.select.NodeTraversor;
import org.jsoup.select.NodeVisitor;

/**
 * The readable text of an element: one paragraph per block element, separated by blank lines, with runs of
 * whitespace collapsed to one space and {@code <br>} kept as a line break. A fixed list of block tags (rather
 * than jsoup's tag table) keeps the output the same across jsoup versions.
 */
final class PlainText implements NodeVisitor {
  private static final Set<String> BLOCKS = Set.of(
      "address", "article", "blockquote", "body", "caption", "dd", "details", "dialog", "div", "dl", "dt",
      "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "header", "footer", "hgroup", "hr",
      "li", "main", "ol", "p", "pre", "section", "summary", "table", "tr", "ul");

  private final StringBuilder text = new StringBuilder();
  private final List<String> lines = new ArrayList<>();
  private final StringBuilder line = new StringBuilder();

  private PlainText() {}

  static String of(Element root) {
    PlainText visitor = new PlainText();
    NodeTraversor.traverse(visitor, root);
    visitor.endBlock();
    return visitor.text.toString();
  }

  @Override
  public void head(Node node, int depth) {
    if (node instanceof TextNode t) {
      line.append(t.getWholeText());
    } else if (node instanceof Element el) {
      switch (el.normalName()) {
        case "br" -> endLine();
        case "td", "th" -> line.append(' ');  // cells of a row stay on one line
        default -> {
          if (BLOCKS.contains(el.normalName())) {
            endBlock();
          }
        }
      }
    }
  }

  @Override
  public void tail(Node node, int depth) {
    if (node instanceof Element el && BLOCKS.contains(el.normalName())) {
      endBlock();
    }
  }

  private void endLine() {
    String normalised = collapseWhitespace(line).strip();
    if (!normalised.isEmpty()) {
      lines.add(normalised);
    }
    line.setLength(0);
  }

  /**
   * Every run of whitespace ({@code [\\s\\u00A0]}: ASCII whitespace and the no-break space) as one space. By hand,
   * not by a regex: it runs over every character of every page's text, and the regex was extraction's hottest spot.
   */
  static String collapseWhitespace(CharSequence s) {
    StringBuilder out = new StringBuilder(s.length());
    boolean inSpace = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\u000B' || c == '\f' || c == '\r' || c == '\u00A0') {
        if (!inSpace) {
          out.append(' ');
          inSpace = true;
        }
      } else {
        out.append(c);
        inSpace = false;
      }
    }
    return out.toString();
  }

  private void endBlock() {
    endLine();
    if (!lines.isEmpty()) {
      if (!text.isEmpty()) {
        text.append("\n\n");
      }
      text.append(String.join("\n", lines));
      lines.clear();
    }
  }
}
