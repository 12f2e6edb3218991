package io.fetchbus.extract;

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
  /** The whitespace seen since the line's last visible character: written only if more of the line follows. */
  private final StringBuilder pending = new StringBuilder();
  private boolean lineHasText;
  private boolean blockHasText;

  private PlainText() {}

  /**
   * Written straight into one builder as the nodes are visited, with no string per line or per block: on a
   * crawl, this runs over every character of every page, and building lines first made it extraction's
   * biggest allocator.
   */
  static String of(Element root) {
    PlainText visitor = new PlainText();
    NodeTraversor.traverse(visitor, root);
    visitor.endBlock();
    return visitor.text.toString();
  }

  @Override
  public void head(Node node, int depth) {
    if (node instanceof TextNode t) {
      append(t.getWholeText());
    } else if (node instanceof Element el) {
      switch (el.normalName()) {
        case "br" -> endLine();
        case "td", "th" -> append(" ");  // cells of a row stay on one line
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

  /**
   * Lines keep their visible characters; each run of whitespace ({@code [\\s\\u00A0]}: ASCII whitespace and the
   * no-break space) inside a line becomes one space, and whitespace at either end of a line is dropped (also
   * other Unicode spaces there, as {@link String#strip} does). Lines without text are left out; the lines of a
   * block are joined by a line break, and blocks by a blank line.
   */
  private void append(String s) {
    int n = s.length();
    int i = 0;
    while (i < n) {
      char c = s.charAt(i);
      if (collapses(c)) {
        if (pending.isEmpty() || pending.charAt(pending.length() - 1) != ' ') {
          pending.append(' ');
        }
        i++;
      } else if (Character.isWhitespace(c)) {
        pending.append(c);
        i++;
      } else {
        startText();
        // A run of visible characters goes in as one range: per-character appends made this extraction's hot spot.
        int end = i + 1;
        while (end < n && visible(s.charAt(end))) {
          end++;
        }
        text.append(s, i, end);
        i = end;
      }
    }
  }

  /** Before a visible character: the separator its line or block needs, or the whitespace pending inside the line. */
  private void startText() {
    if (!lineHasText) {
      if (!blockHasText) {
        if (!text.isEmpty()) {
          text.append("\n\n");
        }
        blockHasText = true;
      } else {
        text.append('\n');
      }
      lineHasText = true;
    } else {
      text.append(pending);
    }
    pending.setLength(0);
  }

  private static boolean visible(char c) {
    return c > ' ' && c < '\u007F' || !collapses(c) && !Character.isWhitespace(c);
  }

  /** The whitespace that runs collapse to one space: {@code [\\s\\u00A0]}. */
  private static boolean collapses(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\u000B' || c == '\f' || c == '\r' || c == '\u00A0';
  }

  private void endLine() {
    lineHasText = false;
    pending.setLength(0);
  }

  private void endBlock() {
    endLine();
    blockHasText = false;
  }
}
