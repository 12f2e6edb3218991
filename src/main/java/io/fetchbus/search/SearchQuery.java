package io.fetchbus.search;

import java.util.ArrayList;
import java.util.List;

/**
 * A query in web-search syntax, as PostgreSQL's {@code websearch_to_tsquery} reads it, made into a {@code tsquery}
 * (text form, for {@code ::tsquery}) with {@link SearchAnalyzer}, the analysis the pages were indexed with:
 * words must all appear ({@code &}), {@code "quoted words"} must appear in that order ({@code <->}, with the
 * distance of any stop words between them), {@code or} between two terms takes either ({@code |}), and a
 * {@code -} before a word or a quote excludes it ({@code !}). A word the analysis splits ({@code e-mail}) is a
 * phrase of its parts; a term with no word left (a stop word, punctuation) is dropped with its operator.
 */
public final class SearchQuery {
  private SearchQuery() {}

  /** The tsquery of {@code q}, or null when no term of it has a word to search for. */
  public static String of(String q) {
    List<String> operands = new ArrayList<>();
    List<Boolean> orBefore = new ArrayList<>();
    boolean or = false;
    int i = 0;
    int n = q.length();
    while (i < n) {
      char c = q.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
        continue;
      }
      boolean negated = false;
      if (c == '-' && i + 1 < n && !Character.isWhitespace(q.charAt(i + 1))) {
        negated = true;
        c = q.charAt(++i);
      }
      int end;
      String term;
      if (c == '"') {
        end = q.indexOf('"', i + 1);
        end = end < 0 ? n : end;
        term = q.substring(i + 1, end);
        end = Math.min(n, end + 1);
      } else {
        end = i;
        while (end < n && !Character.isWhitespace(q.charAt(end)) && q.charAt(end) != '"') {
          end++;
        }
        term = q.substring(i, end);
        if (!negated && term.equalsIgnoreCase("or")) {
          or = !operands.isEmpty(); // "or" joins the terms on either side; at the start it is nothing
          i = end;
          continue;
        }
      }
      i = end;
      String phrase = phrase(term);
      if (phrase != null) {
        operands.add(negated ? "!(" + phrase + ")" : phrase);
        orBefore.add(or);
      }
      or = false;
    }
    if (operands.isEmpty()) {
      return null;
    }
    StringBuilder out = new StringBuilder(operands.get(0));
    for (int k = 1; k < operands.size(); k++) {
      out.append(orBefore.get(k) ? " | " : " & ").append(operands.get(k));
    }
    return out.toString();
  }

  /** The lexemes of {@code words} in order, each at its distance from the one before; null when there are none. */
  private static String phrase(String words) {
    List<SearchAnalyzer.Positioned> lexemes = SearchAnalyzer.lexemes(words);
    if (lexemes.isEmpty()) {
      return null;
    }
    StringBuilder out = new StringBuilder();
    int previous = 0;
    for (SearchAnalyzer.Positioned l : lexemes) {
      if (previous > 0) {
        int distance = l.position() - previous;
        out.append(distance == 1 ? " <-> " : " <" + distance + "> ");
      }
      SearchVector.quote(l.lexeme(), out);
      previous = l.position();
    }
    return lexemes.size() == 1 ? out.toString() : "(" + out + ")";
  }
}
