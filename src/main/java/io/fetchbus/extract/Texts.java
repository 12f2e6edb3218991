package io.fetchbus.extract;

/** Length limits that never split a character. */
final class Texts {
  private Texts() {}

  /** {@code s} cut to at most {@code max} chars, one fewer when the cut would fall inside a surrogate pair. */
  static String cap(String s, int max) {
    if (s == null || s.length() <= max) {
      return s;
    }
    int end = Character.isHighSurrogate(s.charAt(max - 1)) ? max - 1 : max;
    return s.substring(0, end);
  }
}
