package io.fetchbus.store;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The charset a Content-Type names, or UTF-8 when it names none the JVM knows. */
final class Charsets {
  private static final Pattern CHARSET = Pattern.compile("charset\\s*=\\s*\"?([\\w.:-]+)", Pattern.CASE_INSENSITIVE);

  private Charsets() {}

  static String of(String contentType) {
    if (contentType != null) {
      Matcher m = CHARSET.matcher(contentType);
      try {
        if (m.find() && Charset.isSupported(m.group(1))) {
          return m.group(1);
        }
      } catch (IllegalArgumentException ignored) {
        // an illegal charset name from a server: fall back to UTF-8
      }
    }
    return StandardCharsets.UTF_8.name();
  }
}
