package io.fetchbus.search;

import java.io.IOException;
import java.util.Arrays;
import org.apache.lucene.analysis.CharArrayMap;
import org.apache.lucene.analysis.TokenFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.tartarus.snowball.ext.EnglishStemmer;

/**
 * Lucene's SnowballFilter with the English stemmer, remembering the stems of the words it saw: stemming was three
 * quarters of the analysis of a page, and the words of a language repeat (a few thousand make most of any text).
 * One per analysing thread (Lucene reuses a token stream per thread), so the memory needs no lock; bounded by
 * starting over when full.
 */
final class CachedStemFilter extends TokenFilter {
  private static final int MAX_CACHED = 16_384;

  private final EnglishStemmer stemmer = new EnglishStemmer();
  private final CharArrayMap<char[]> stems = new CharArrayMap<>(1024, false);
  private final CharTermAttribute term = addAttribute(CharTermAttribute.class);

  CachedStemFilter(TokenStream input) {
    super(input);
  }

  @Override
  public boolean incrementToken() throws IOException {
    if (!input.incrementToken()) {
      return false;
    }
    char[] stem = stems.get(term.buffer(), 0, term.length());
    if (stem == null) {
      char[] word = Arrays.copyOf(term.buffer(), term.length());
      stemmer.setCurrent(word, word.length);
      stemmer.stem();
      stem = Arrays.copyOf(stemmer.getCurrentBuffer(), stemmer.getCurrentBufferLength());
      if (stems.size() >= MAX_CACHED) {
        stems.clear();
      }
      stems.put(word, stem);
    }
    term.copyBuffer(stem, 0, stem.length);
    return true;
  }
}
