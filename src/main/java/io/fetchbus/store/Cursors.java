package io.fetchbus.store;

import io.fetchbus.bus.Failure;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The opaque {@code next} cursors of the store's listings: a prefix naming the listing and its version ({@code p1:}
 * pages, {@code s1:} search, {@code j1:} jobs, {@code e1:} job errors) and the keyset position, in URL-safe base64.
 * A cursor of another listing, or not one at all, is a 400.
 */
final class Cursors {
  private Cursors() {}

  static String encode(String cursor) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(cursor.getBytes(StandardCharsets.UTF_8));
  }

  /** What {@code cursor} holds after {@code prefix}; a 400 saying {@code whose} listing it must come from otherwise. */
  static String decode(String cursor, String prefix, String whose) {
    try {
      String s = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
      if (s.startsWith(prefix)) {
        return s.substring(prefix.length());
      }
    } catch (IllegalArgumentException ignored) {
      // not base64: the 400 below
    }
    throw invalid(whose);
  }

  static RuntimeException invalid(String whose) {
    return Failure.INVALID.exception("after: is not a cursor returned as 'next' by " + whose);
  }
}
