package io.fetchbus.search;

import java.io.CharArrayReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.lucene.analysis.standard.StandardTokenizer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.tokenattributes.PositionIncrementAttribute;

/**
 * One thread's analysis of texts into positioned lexemes. The text is cut at ASCII whitespace, which no word crosses;
 * a part that is all ASCII is split by {@link AsciiWords}, any other by Lucene's StandardTokenizer, on its own. A
 * text with a part longer than the tokenizer's longest word (255 characters) goes to the tokenizer whole, as it
 * splits such words in its own way. Each word then becomes its lexeme by {@link WordLexemes}.
 */
final class Analysis {
  /** Texts up to this length are copied into a buffer kept for the next; longer ones (rare) get their own. */
  private static final int KEPT_BUFFER = 128 * 1024;

  private final StandardTokenizer tokenizer = new StandardTokenizer();
  private final CharTermAttribute term = tokenizer.addAttribute(CharTermAttribute.class);
  private final PositionIncrementAttribute step = tokenizer.addAttribute(PositionIncrementAttribute.class);
  /** The tokenizer's longest word (255 by default): it cuts a longer one in pieces in its own way. */
  private final int maxWord = tokenizer.getMaxTokenLength();
  private final WordLexemes lexemes = new WordLexemes(SearchAnalyzer.STOP_WORDS);
  private final AsciiWords.Words words = this::word;
  private char[] buffer = new char[1024];
  private SearchAnalyzer.Lexemes to;
  private char[] text;
  private int position;
  private int last;

  /** Feeds {@code to} with the lexemes of {@code s[0, length)}; returns the position of the last one (0 when none). */
  int run(String s, int length, SearchAnalyzer.Lexemes to) {
    if (length > buffer.length && length <= KEPT_BUFFER) {
      buffer = new char[Math.min(KEPT_BUFFER, Math.max(length, buffer.length * 2))];
    }
    char[] chars = length <= buffer.length ? buffer : new char[length];
    s.getChars(0, length, chars, 0);
    this.to = to;
    this.text = chars;
    position = 0;
    last = 0;
    try {
      if (longestPart(chars, length) > maxWord) {
        tokenize(0, length);
      } else {
        parts(length);
      }
      return last;
    } finally {
      this.to = null;
      this.text = null;
    }
  }

  private void parts(int length) {
    char[] c = text;
    int i = 0;
    while (i < length) {
      while (i < length && AsciiWords.separates(c[i])) {
        i++;
      }
      int start = i;
      boolean ascii = true;
      while (i < length && !AsciiWords.separates(c[i])) {
        ascii &= c[i] < 0x80;
        i++;
      }
      if (start == i) {
        break;
      }
      if (ascii) {
        AsciiWords.split(c, start, i, words);
      } else {
        tokenize(start, i);
      }
    }
  }

  private void word(int start, int end) {
    position++;
    emit(text, start, end - start);
  }

  private void emit(char[] word, int offset, int length) {
    String lexeme = lexemes.of(word, offset, length);
    if (lexeme != null) {
      to.accept(lexeme, position);
      last = position;
    }
  }

  /** The words of {@code text[start, end)} by Lucene's tokenizer. */
  private void tokenize(int start, int end) {
    try {
      tokenizer.setReader(new CharArrayReader(text, start, end - start));
      tokenizer.reset();
      while (tokenizer.incrementToken()) {
        position += step.getPositionIncrement();
        emit(term.buffer(), 0, term.length());
      }
      tokenizer.end();
    } catch (IOException e) {
      throw new UncheckedIOException("reading an array cannot fail", e);
    } finally {
      try {
        tokenizer.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** The length of the longest run of characters between ASCII whitespace. */
  private static int longestPart(char[] c, int length) {
    int longest = 0;
    int run = 0;
    for (int i = 0; i < length; i++) {
      if (AsciiWords.separates(c[i])) {
        run = 0;
      } else if (++run > longest) {
        longest = run;
      }
    }
    return longest;
  }
}
