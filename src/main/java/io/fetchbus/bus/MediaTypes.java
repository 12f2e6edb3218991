package io.fetchbus.bus;

import java.util.Locale;

/** What a Content-Type says about a body. */
public final class MediaTypes {
  private MediaTypes() {}

  /** Plain text of any kind ({@code text/*}): stored as it is, and its text is itself. */
  public static boolean isText(String contentType) {
    return contentType != null && contentType.strip().toLowerCase(Locale.ROOT).startsWith("text/");
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
