package io.fetchbus.fetch;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/** The Retry-After header (RFC 9110 10.2.3): delay-seconds or an HTTP-date. */
final class RetryAfter {
  private RetryAfter() {}

  /** Milliseconds to wait from {@code nowMs}, or -1 when the header is absent or unreadable. */
  static long millis(String value, long nowMs) {
    if (value == null || value.isBlank()) {
      return -1;
    }
    String v = value.strip();
    if (v.matches("\\d{1,9}")) {
      return Long.parseLong(v) * 1000;
    }
    try {
      long at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
      return Math.max(0, at - nowMs);
    } catch (DateTimeParseException e) {
      return -1;
    }
  }
}
