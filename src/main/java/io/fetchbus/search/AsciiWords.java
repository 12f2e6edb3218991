package io.fetchbus.search;

/**
 * The words of a stretch of ASCII text exactly as Lucene's StandardTokenizer finds them, by the Unicode word
 * boundary rules (UAX #29) as they apply to ASCII: letters and digits run together; an underscore joins what is on
 * either side of it; a {@code :}, {@code .} or {@code '} joins two letters, a {@code ,}, {@code ;}, {@code .} or
 * {@code '} two digits; a word has at least one letter or digit. Most of a page is ASCII, and the tokenizer's
 * general state machine was two thirds of the search analysis of a page (JMH: 34 of 52 us for a 7,000-character
 * text). {@code SearchAnalysisTest} holds the two equal on random text.
 */
final class AsciiWords {
  private AsciiWords() {}

  /** Receives each word as the range {@code [start, end)}. */
  @FunctionalInterface
  interface Words {
    void word(int start, int end);
  }

  /** ASCII whitespace: no word goes across it, so text can be split there and its parts tokenized apart. */
  static boolean separates(char c) {
    return c <= ' ' && (c == ' ' || c >= '\t' && c <= '\r');  // tab, line feed, VT, form feed, carriage return
  }

  /** The words of {@code text[start, end)}, which must hold only ASCII characters. */
  static void split(char[] text, int start, int end, Words to) {
    int i = start;
    while (i < end) {
      char c = text[i];
      if (!alphanumeric(c) && c != '_') {
        i++;
        continue;
      }
      int from = i;
      boolean alphanumeric = false;
      while (i < end) {
        c = text[i];
        if (alphanumeric(c)) {
          alphanumeric = true;
          i++;
        } else if (c == '_') {
          i++;
        } else if (i + 1 < end && joins(text[i - 1], c, text[i + 1])) {
          i += 2;  // the mark and the letter or digit after it
          alphanumeric = true;
        } else {
          break;
        }
      }
      if (alphanumeric) {
        to.word(from, i);
      }
    }
  }

  /** Whether {@code mark} between {@code before} and {@code after} keeps them in one word (WB6, WB7, WB11, WB12). */
  private static boolean joins(char before, char mark, char after) {
    return switch (mark) {
      case ':' -> letter(before) && letter(after);
      case ',', ';' -> digit(before) && digit(after);
      case '.', '\'' -> letter(before) && letter(after) || digit(before) && digit(after);
      default -> false;
    };
  }

  private static boolean alphanumeric(char c) {
    return letter(c) || digit(c);
  }

  private static boolean letter(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
  }

  private static boolean digit(char c) {
    return c >= '0' && c <= '9';
  }
}
