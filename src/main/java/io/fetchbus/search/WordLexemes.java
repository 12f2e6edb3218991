package io.fetchbus.search;

import java.util.Arrays;
import org.apache.lucene.analysis.CharArrayMap;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.CharacterUtils;
import org.tartarus.snowball.ext.EnglishStemmer;

/**
 * What a word becomes in the index: Lucene's EnglishPossessiveFilter, LowerCaseFilter, StopFilter and SnowballFilter
 * (English stemmer) in one, remembering what each word it saw, as the tokenizer gave it, becomes: its lexeme as a
 * string, or nothing for a stop word. Stemming was three quarters of the analysis of a page, then lower-casing and
 * the filters' chain a fifth of what was left; the words of a language repeat (a few thousand make most of any
 * text), so one lookup per word replaces them all and the making of the lexeme's string. One per analysing thread,
 * so the memory needs no lock; bounded by starting over when full.
 */
final class WordLexemes {
  private static final int MAX_REMEMBERED = 16_384;
  /** Longer words (codes, hashes, run-together text) are rare and would make the memory large: stemmed each time. */
  private static final int MAX_REMEMBERED_CHARS = 40;
  /** What a stop word becomes: told apart by identity. */
  private static final String STOP = new String("stop");

  private final CharArraySet stopWords;
  private final EnglishStemmer stemmer = new EnglishStemmer();
  private final CharArrayMap<String> lexemes = new CharArrayMap<>(1024, false);

  WordLexemes(CharArraySet stopWords) {
    this.stopWords = stopWords;
  }

  /** The lexeme of the word at {@code word[offset, offset + length)}, or null for a stop word. */
  String of(char[] word, int offset, int length) {
    String known = lexemes.get(word, offset, length);
    if (known == null) {
      char[] copy = Arrays.copyOfRange(word, offset, offset + length);
      char[] lower = lowerCaseWithoutPossessive(copy);
      known = stopWords.contains(lower) ? STOP : stem(lower);
      if (length <= MAX_REMEMBERED_CHARS) {
        if (lexemes.size() >= MAX_REMEMBERED) {
          lexemes.clear();
        }
        lexemes.put(copy, known);
      }
    }
    return known == STOP ? null : known;
  }

  /**
   * The word as EnglishPossessiveFilter then LowerCaseFilter leave it: a trailing {@code 's} (any of its three
   * apostrophes, either case of s) dropped, each code point lower-cased; a copy, so {@code word} stays as it is.
   */
  private static char[] lowerCaseWithoutPossessive(char[] word) {
    int n = word.length;
    if (n >= 2 && (word[n - 1] == 's' || word[n - 1] == 'S')
        && (word[n - 2] == '\'' || word[n - 2] == '\u2019' || word[n - 2] == '\uFF07')) {
      n -= 2;
    }
    char[] lower = Arrays.copyOf(word, n);
    CharacterUtils.toLowerCase(lower, 0, n);
    return lower;
  }

  /** The stem of {@code word}, a copy of its own: the stemmer works in place on the array it is given. */
  private String stem(char[] word) {
    stemmer.setCurrent(word, word.length);
    stemmer.stem();
    return new String(stemmer.getCurrentBuffer(), 0, stemmer.getCurrentBufferLength());
  }
}
