package io.fetchbus.store;

import io.fetchbus.bus.Failure;
import io.fetchbus.bus.Fields;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * The opaque {@code next} cursors of the store's listings: a prefix naming the listing and its version ({@code p1:}
 * pages, {@code s1:} search, {@code j1:} jobs, {@code e1:} job errors, {@code w1:} watches, {@code c1:} a watch's
 * changes) and the keyset position, in URL-safe base64. A cursor of another listing, or not one at all, is a 400.
 */
final class Cursors {
  /** A row id as a cursor carries it: what a bigserial gives out, positive and without a sign or leading zeros. */
  private static final Pattern ID = Pattern.compile("[1-9][0-9]{0,18}");

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

  /** The cursor of a listing ordered by a row id. */
  static String encodeId(String prefix, long id) {
    return encode(prefix + id);
  }

  /** The row id {@link #encodeId} put in {@code cursor}; a 400 otherwise. */
  static long decodeId(String cursor, String prefix, String whose) {
    return id(decode(cursor, prefix, whose), whose);
  }

  /** {@code digits} as a row id; a 400 when it is not one (a sign, a leading zero, past a long), never a 500. */
  static long id(String digits, String whose) {
    if (ID.matcher(digits).matches()) {
      try {
        return Long.parseLong(digits);
      } catch (NumberFormatException past) {
        // 19 digits over Long.MAX_VALUE: the 400 below
      }
    }
    throw invalid(whose);
  }

  /** The position of a listing ordered by creation time, then id (a UUID) among rows of the same time. */
  record TimeAndId(OffsetDateTime at, String id) {}

  /** The cursor of a listing ordered by creation time and id; {@code at} is {@link OffsetDateTime#toString()}'s. */
  static String encodeTimeAndId(String prefix, String at, String id) {
    return encode(prefix + at + "|" + id);
  }

  /** The position {@link #encodeTimeAndId} put in {@code cursor}, its id in the canonical form; a 400 otherwise. */
  static TimeAndId decodeTimeAndId(String cursor, String prefix, String whose) {
    String[] parts = decode(cursor, prefix, whose).split("\\|", 2);
    try {
      return new TimeAndId(OffsetDateTime.parse(parts[0]), Fields.uuid("after", parts[1], "a UUID").toString());
    } catch (RuntimeException notOurs) {
      // no '|', not a time, or not a UUID: the same 400 as any other cursor this service did not give out
      throw invalid(whose);
    }
  }
}
