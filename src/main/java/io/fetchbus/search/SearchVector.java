package io.fetchbus.search;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * What a page is found by: its title (weight A) and text (weight B) as a PostgreSQL {@code tsvector} in its text
 * form, ready for {@code ::tsvector}. The same as PostgreSQL's {@code setweight(to_tsvector(title), 'A') ||
 * setweight(to_tsvector(text), 'B')} made with {@link SearchAnalyzer}: positions of the text follow the title's,
 * within tsvector's bounds. Made here, on the extract workers, it costs PostgreSQL only the parsing of this
 * literal: its own text search parser cost more than the rest of storing a page.
 */
public final class SearchVector {
  /** What of a page is indexed, as before: the first 1,000 characters of the title and 100,000 of the text. */
  static final int MAX_TITLE = 1_000;
  static final int MAX_TEXT = 100_000;
  /** tsvector's limits: positions above this are stored as it, at most this many positions per lexeme. */
  private static final int MAX_POSITION = 16_383;
  private static final int MAX_POSITIONS_PER_LEXEME = 256;
  /** PostgreSQL skips words longer than this (in bytes); a lexeme of that length is no word anyone searches. */
  private static final int MAX_LEXEME_CHARS = 2_047 / 4;

  /** Positions by lexeme, each packed as {@code position << 1 | (weight B ? 1 : 0)}. */
  private final Map<String, Positions> positions = new HashMap<>();

  private SearchVector() {}

  /** The vector of a page; empty ({@code ""}) when neither has a word to find. */
  public static String of(String title, String text) {
    SearchVector v = new SearchVector();
    int offset = v.add(title, MAX_TITLE, 0, 0);
    v.add(text, MAX_TEXT, offset, 1);
    return v.literal();
  }

  /**
   * Adds the lexemes of {@code s} after position {@code offset}; returns the last position used, from which the next
   * part goes on (as tsvector's {@code ||} shifts its right side by the left side's greatest position).
   */
  private int add(String s, int max, int offset, int weightB) {
    if (s == null || s.isEmpty()) {
      return offset;
    }
    int last = SearchAnalyzer.analyze(s, max, (lexeme, position) -> {
      if (lexeme.length() > MAX_LEXEME_CHARS) {
        return;
      }
      positions.computeIfAbsent(lexeme, k -> new Positions()).add(Math.min(MAX_POSITION, offset + position) << 1 | weightB);
    });
    return Math.min(MAX_POSITION, offset + last);
  }

  private String literal() {
    StringBuilder out = new StringBuilder(positions.size() * 16);
    positions.forEach((lexeme, at) -> {
      if (!out.isEmpty()) {
        out.append(' ');
      }
      quote(lexeme, out).append(':');
      for (int i = 0; i < at.size; i++) {
        if (i > 0) {
          out.append(',');
        }
        out.append(at.packed[i] >> 1).append((at.packed[i] & 1) == 0 ? 'A' : 'B');
      }
    });
    return out.toString();
  }

  /** The positions of one lexeme, at most tsvector's limit: most words of a page occur once or twice. */
  private static final class Positions {
    private int[] packed = new int[2];
    private int size;

    void add(int p) {
      if (size == MAX_POSITIONS_PER_LEXEME) {
        return;
      }
      if (size == packed.length) {
        packed = Arrays.copyOf(packed, Math.min(MAX_POSITIONS_PER_LEXEME, size * 2));
      }
      packed[size++] = p;
    }
  }

  /** A lexeme quoted for tsvector and tsquery input: in single quotes, with quotes and backslashes doubled. */
  static StringBuilder quote(String lexeme, StringBuilder out) {
    out.append('\'');
    for (int i = 0; i < lexeme.length(); i++) {
      char c = lexeme.charAt(i);
      if (c == '\'' || c == '\\') {
        out.append(c);
      }
      out.append(c);
    }
    return out.append('\'');
  }
}
