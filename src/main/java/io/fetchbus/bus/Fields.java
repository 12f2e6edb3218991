package io.fetchbus.bus;

import io.vertx.core.json.JsonObject;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reading optional typed fields of a request, with a 400 that names the field when the type is wrong. Shared by
 * every capability that reads requests: the bus records here, and the crawl and batch specs.
 */
public final class Fields {
  private Fields() {}

  /** A whole number in [min, max], given as a JSON number or (from query strings) a decimal string. */
  public static Long wholeNumber(JsonObject json, String field, long min, long max) {
    Object v = json.getValue(field);
    if (v == null) {
      return null;
    }
    long n;
    if (v instanceof Number num && (num instanceof Integer || num instanceof Long
        || (num.doubleValue() == Math.rint(num.doubleValue()) && !Double.isInfinite(num.doubleValue())))) {
      n = num.longValue();
    } else if (v instanceof String s && s.matches("-?\\d{1,18}")) {
      n = Long.parseLong(s);
    } else {
      throw Failure.INVALID.exception(field + ": must be a whole number between " + min + " and " + max);
    }
    if (n < min || n > max) {
      throw Failure.INVALID.exception(field + ": must be between " + min + " and " + max + ", got " + n);
    }
    return n;
  }

  public static boolean bool(JsonObject json, String field, boolean dflt) {
    Object v = json.getValue(field);
    if (v == null) {
      return dflt;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    throw Failure.INVALID.exception(field + ": must be true or false");
  }

  public static String string(JsonObject json, String field, int maxLength) {
    Object v = json.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s)) {
      throw Failure.INVALID.exception(field + ": must be a string");
    }
    if (s.length() > maxLength) {
      throw Failure.INVALID.exception(field + ": is longer than " + maxLength + " characters");
    }
    if (s.indexOf('\0') >= 0) {
      // PostgreSQL text cannot hold NUL: refused here, as a 400, rather than by the database as a 500.
      throw Failure.INVALID.exception(field + ": must not contain NUL characters");
    }
    return s;
  }

  /** The canonical form only: {@code UUID.fromString} would also take {@code 1-2-3-4-5}. */
  private static final java.util.regex.Pattern UUID_FORM =
      java.util.regex.Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

  /** A UUID in its canonical form, or null when absent; a 400 saying it must be {@code what} otherwise. */
  public static java.util.UUID uuid(JsonObject json, String field, String what) {
    String s = string(json, field, 36);
    return s == null ? null : uuid(field, s, what);
  }

  /** {@code value}, a UUID in its canonical form; a 400 saying {@code field} must be {@code what} otherwise. */
  public static java.util.UUID uuid(String field, String value, String what) {
    if (value == null || !UUID_FORM.matcher(value).matches()) {
      throw Failure.INVALID.exception(field + ": must be " + what);
    }
    return java.util.UUID.fromString(value);
  }

  /** A misspelt option silently ignored would do the wrong thing: fields outside {@code known} are a 400. */
  public static void onlyKnown(JsonObject json, Set<String> known, String what) {
    for (String name : json.fieldNames()) {
      if (!known.contains(name)) {
        throw Failure.INVALID.exception(name + ": is not a " + what + " (known: "
            + String.join(", ", new TreeSet<>(known)) + ")");
      }
    }
  }
}
