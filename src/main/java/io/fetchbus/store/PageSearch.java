package io.fetchbus.store;

import io.fetchbus.bus.SearchRequest;
import io.fetchbus.search.SearchQuery;
import io.vertx.sqlclient.Tuple;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a {@link SearchRequest} into SQL ({@link Sql#SEARCH_PAGES}), relevance and ids into the opaque cursors
 * clients pass back as {@code after}, and the marked snippets PostgreSQL returns into safe HTML.
 *
 * <p>Relevance order is keyset-paginated like the listing: the cursor holds the (rank, id) of the last result, and
 * the next page is every match ordered strictly after it in {@code rank DESC, id DESC}. A page's rank for a query
 * never changes (stored pages are not rewritten), so paging visits every match that existed at the first request
 * exactly once, and each page costs the same however deep it is. The rank is a {@code real}; the cursor carries
 * its exact bits, so the comparison in SQL is exact.
 */
final class PageSearch {
  private static final String CURSOR_PREFIX = "s1:";
  private static final String SEARCHES = "a search of this service";
  private static final Pattern CURSOR = Pattern.compile("s1:([0-9a-f]{8}):([1-9][0-9]{0,18})");
  /** Where PostgreSQL's ts_headline marks a match (see Sql.SEARCH_PAGES); control characters no page text keeps. */
  private static final char MATCH_START = '\u0001';
  private static final char MATCH_END = '\u0002';

  private PageSearch() {}

  static Tuple params(SearchRequest s) {
    Float rank = null;
    Long id = null;
    if (s.after() != null) {
      Matcher m = cursor(s.after());
      rank = Float.intBitsToFloat(Integer.parseUnsignedInt(m.group(1), 16));
      id = Cursors.id(m.group(2), SEARCHES);
      if (!Float.isFinite(rank) || rank < 0) {
        throw invalidCursor();
      }
    }
    // One row more than asked tells whether there is a next page without a count.
    return Tuple.tuple().addValue(SearchQuery.of(s.q())).addValue(s.host()).addValue(s.jobId()).addValue(rank).addValue(id)
        .addValue(s.limit() + 1).addValue(s.latest());
  }

  static String encode(float rank, long id) {
    return Cursors.encode(CURSOR_PREFIX + String.format("%08x", Float.floatToIntBits(rank)) + ":" + id);
  }

  private static Matcher cursor(String after) {
    Matcher m = CURSOR.matcher(CURSOR_PREFIX + Cursors.decode(after, CURSOR_PREFIX, SEARCHES));
    if (m.matches()) {
      return m;
    }
    throw invalidCursor();
  }

  private static RuntimeException invalidCursor() {
    return Cursors.invalid(SEARCHES);
  }

  /**
   * The snippet as HTML: the page's text escaped, and each match wrapped in {@code <b>…</b>}. Escaping here, after
   * PostgreSQL marked the matches with control characters, is what makes it safe to insert as HTML: ts_headline
   * drops what its parser takes for a tag, but not everything a browser would take for markup.
   */
  static String snippet(String marked) {
    if (marked == null) {
      return null;
    }
    StringBuilder html = new StringBuilder(marked.length() + 32);
    for (int i = 0; i < marked.length(); i++) {
      char c = marked.charAt(i);
      switch (c) {
        case MATCH_START -> html.append("<b>");
        case MATCH_END -> html.append("</b>");
        case '&' -> html.append("&amp;");
        case '<' -> html.append("&lt;");
        case '>' -> html.append("&gt;");
        case '"' -> html.append("&quot;");
        case '\'' -> html.append("&#39;");
        default -> html.append(c);
      }
    }
    return html.toString().strip();
  }
}
