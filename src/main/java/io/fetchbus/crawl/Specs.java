package io.fetchbus.crawl;

import io.fetchbus.bus.Failure;
import io.vertx.core.json.JsonObject;
import java.util.Set;
import java.util.TreeSet;

/** Typed fields of a job spec, each with a 400 that names the field. */
final class Specs {
  private Specs() {}

  /** A misspelt option silently ignored would crawl the wrong thing: unknown fields are refused. */
  static void onlyKnownFields(JsonObject j, Set<String> known, String what) {
    for (String name : j.fieldNames()) {
      if (!known.contains(name)) {
        throw Failure.INVALID.exception(name + ": is not a " + what + " (known: "
            + String.join(", ", new TreeSet<>(known)) + ")");
      }
    }
  }

  static int whole(JsonObject j, String field, int min, int max, int dflt) {
    Object v = j.getValue(field);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
      throw Failure.INVALID.exception(field + ": must be a whole number between " + min + " and " + max);
    }
    if (n.doubleValue() < min || n.doubleValue() > max) {
      throw Failure.INVALID.exception(field + ": must be between " + min + " and " + max + ", got " + n);
    }
    return n.intValue();
  }

  static boolean bool(JsonObject j, String field, boolean dflt) {
    Object v = j.getValue(field);
    if (v == null) {
      return dflt;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    throw Failure.INVALID.exception(field + ": must be true or false");
  }

  static String string(JsonObject j, String field, int maxLength) {
    Object v = j.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s) || s.length() > maxLength) {
      throw Failure.INVALID.exception(field + ": must be a string of at most " + maxLength + " characters");
    }
    return s;
  }
}
