package io.fetchbus.bus;

import java.nio.charset.Charset;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What a Content-Type says about a body. */
public final class MediaTypes {
  private static final Pattern CHARSET = Pattern.compile("charset\\s*=\\s*\"?([\\w.:-]+)", Pattern.CASE_INSENSITIVE);

  private MediaTypes() {}

  /** Plain text of any kind ({@code text/*}): stored as it is, and its text is itself. */
  public static boolean isText(String contentType) {
    return contentType != null && contentType.strip().toLowerCase(Locale.ROOT).startsWith("text/");
  }

  /** The charset a Content-Type names, when the JVM knows it; otherwise null (the caller sniffs or assumes UTF-8). */
  public static String charset(String contentType) {
    if (contentType == null) {
      return null;
    }
    Matcher m = CHARSET.matcher(contentType);
    try {
      return m.find() && Charset.isSupported(m.group(1)) ? m.group(1) : null;
    } catch (IllegalArgumentException e) {
      return null; // an illegal charset name from a server
    }
  }

  /** HTML or XHTML: the only bodies worth parsing for a title, text or links. */
  public static boolean isHtml(String contentType) {
    if (contentType == null) {
      return false;
    }
    String ct = contentType.strip().toLowerCase(Locale.ROOT);
    return ct.startsWith("text/html") || ct.startsWith("application/xhtml+xml");
  }
}
