package io.fetchbus.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Locale;

/**
 * Masks secrets in a config before it is logged: passwords in URLs, and keys whose name says secret (password,
 * secret, {@code keys} such as {@code auth.keys}, {@code key} such as {@code metrics.key}), not the limits per key
 * ({@code limits.maxActiveJobsPerKey}).
 */
public final class Secrets {
  private Secrets() {}

  public static JsonObject mask(JsonObject config) {
    JsonObject out = new JsonObject();
    for (String key : config.fieldNames()) {
      Object v = config.getValue(key);
      String lower = key.toLowerCase(Locale.ROOT);
      if (v instanceof JsonObject child) {
        out.put(key, mask(child));
      } else if (v != null && (lower.contains("password") || lower.contains("secret") || lower.endsWith("keys")
          || (lower.endsWith("key") && !key.endsWith("PerKey")))) {
        // An empty value stays visible: it says the secret is not set.
        out.put(key, v instanceof JsonArray a && a.isEmpty() || "".equals(v) ? v : "***");
      } else if (v instanceof String s) {
        out.put(key, maskUrlPassword(s));
      } else {
        out.put(key, v);
      }
    }
    return out;
  }

  /** {@code postgresql://user:pw@host/db} -> {@code postgresql://user:***@host/db}. */
  static String maskUrlPassword(String s) {
    int scheme = s.indexOf("://");
    int at = s.indexOf('@');
    if (scheme < 0 || at < scheme) {
      return s.replaceAll("(?i)(password=)[^&]*", "$1***");
    }
    int colon = s.indexOf(':', scheme + 3);
    String masked = colon > 0 && colon < at ? s.substring(0, colon + 1) + "***" + s.substring(at) : s;
    return masked.replaceAll("(?i)(password=)[^&]*", "$1***");
  }
}
