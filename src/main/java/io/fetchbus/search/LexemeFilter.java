package io.fetchbus.search;

import java.util.Arrays;
import org.apache.lucene.analysis.CharArrayMap;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.FilteringTokenFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.tartarus.snowball.ext.EnglishStemmer;

/**
 * Lucene's StopFilter and SnowballFilter (English stemmer) in one, remembering what each word it saw becomes: its
 * lexeme as a string, or nothing for a stop word, which still takes its position. Stemming was three quarters of
 * the analysis of a page, and the words of a language repeat (a few thousand make most of any text), so one lookup
 * per word replaces the stop-word lookup, the stemmer and the making of the lexeme's string. One per analysing
 * thread (Lucene reuses a token stream per thread), so the memory needs no lock; bounded by starting over when full.
 */
final class LexemeFilter extends FilteringTokenFilter {
  private static final int MAX_REMEMBERED = 16_384;
  /** Longer words (codes, hashes, run-together text) are rare and would make the memory large: stemmed each time. */
  private static final int MAX_REMEMBERED_CHARS = 40;
  /** What a stop word becomes: told apart by identity. */
  private static final String STOP = new String("stop");

  private final CharArraySet stopWords;
  private final EnglishStemmer stemmer = new EnglishStemmer();
  private final CharArrayMap<String> lexemes = new CharArrayMap<>(1024, false);
  private final CharTermAttribute term = addAttribute(CharTermAttribute.class);
  private String lexeme;

  LexemeFilter(TokenStream input, CharArraySet stopWords) {
    super(input);
    this.stopWords = stopWords;
  }

  /** The lexeme of the word the last {@code incrementToken} gave. */
  String lexeme() {
    return lexeme;
  }

  @Override
  protected boolean accept() {
    String known = lexemes.get(term.buffer(), 0, term.length());
    if (known == null) {
      char[] word = Arrays.copyOf(term.buffer(), term.length());
      known = stopWords.contains(word) ? STOP : stem(word);
      if (word.length <= MAX_REMEMBERED_CHARS) {
        if (lexemes.size() >= MAX_REMEMBERED) {
          lexemes.clear();
        }
        lexemes.put(word, known);
      }
    }
    if (known == STOP) {
      return false;
    }
    lexeme = known;
    term.setEmpty().append(known);
    return true;
  }

  /** The stem of {@code word}, which stays as it is: the stemmer works in place on the array it is given. */
  private String stem(char[] word) {
    stemmer.setCurrent(Arrays.copyOf(word, word.length), word.length);
    stemmer.stem();
    return new String(stemmer.getCurrentBuffer(), 0, stemmer.getCurrentBufferLength());
  }
}
