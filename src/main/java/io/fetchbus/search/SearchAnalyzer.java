package io.fetchbus.search;

import java.util.ArrayList;
import java.util.List;
import org.apache.lucene.analysis.CharArraySet;

/**
 * The words of a text as the search index and its queries see them: Unicode word segmentation (UAX #29),
 * possessives and case dropped, PostgreSQL's English stop words left out (each still takes its position, as in
 * PostgreSQL), the rest reduced by the Snowball English stemmer, the one PostgreSQL's {@code english}
 * configuration uses. Pages and queries go through this same analysis, so a word of a query finds the pages that
 * hold it. Thread-safe; CPU work in proportion to the text, so pages are analysed on worker threads.
 */
public final class SearchAnalyzer {
  /** PostgreSQL's {@code tsearch_data/english.stop}, so stop words are the ones its english configuration drops. */
  static final CharArraySet STOP_WORDS = CharArraySet.unmodifiableSet(new CharArraySet(List.of(
      "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your", "yours", "yourself", "yourselves",
      "he", "him", "his", "himself", "she", "her", "hers", "herself", "it", "its", "itself", "they", "them", "their",
      "theirs", "themselves", "what", "which", "who", "whom", "this", "that", "these", "those", "am", "is", "are",
      "was", "were", "be", "been", "being", "have", "has", "had", "having", "do", "does", "did", "doing", "a", "an",
      "the", "and", "but", "if", "or", "because", "as", "until", "while", "of", "at", "by", "for", "with", "about",
      "against", "between", "into", "through", "during", "before", "after", "above", "below", "to", "from", "up",
      "down", "in", "out", "on", "off", "over", "under", "again", "further", "then", "once", "here", "there", "when",
      "where", "why", "how", "all", "any", "both", "each", "few", "more", "most", "other", "some", "such", "no", "nor",
      "not", "only", "own", "same", "so", "than", "too", "very", "s", "t", "can", "will", "just", "don", "should",
      "now"), false));

  /** One per analysing thread: the tokenizer and the memory of lexemes are not thread-safe, and are reused. */
  private static final ThreadLocal<Analysis> ANALYSES = ThreadLocal.withInitial(Analysis::new);

  private SearchAnalyzer() {}

  /** Receives the lexemes of a text in order, each with its position (1-based, counting stop words). */
  @FunctionalInterface
  public interface Lexemes {
    void accept(String lexeme, int position);
  }

  /** Feeds {@code to} with the lexemes of {@code text}; returns the position of the last one (0 when none). */
  public static int analyze(String text, Lexemes to) {
    return analyze(text, text.length(), to);
  }

  /** As {@link #analyze(String, Lexemes)}, of the first {@code max} characters of {@code text} (no copy of them). */
  public static int analyze(String text, int max, Lexemes to) {
    return ANALYSES.get().run(text, Math.min(max, text.length()), to);
  }

  /** The lexemes of {@code text}, in order, with their positions. */
  public static List<Positioned> lexemes(String text) {
    List<Positioned> out = new ArrayList<>();
    analyze(text, (lexeme, position) -> out.add(new Positioned(lexeme, position)));
    return out;
  }

  public record Positioned(String lexeme, int position) {}
}
