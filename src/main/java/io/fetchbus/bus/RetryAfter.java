package io.fetchbus.bus;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * The Retry-After header (RFC 9110 10.2.3): delay-seconds or an HTTP-date. Read by the fetcher, which waits for a
 * short one, and by the crawl, which puts a URL back in the frontier until a longer one has passed.
 */
public final class RetryAfter {
  private RetryAfter() {}

  /** Milliseconds to wait from {@code nowMs}, or -1 when the header is absent or unreadable. */
  public static long millis(String value, long nowMs) {
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
