package io.fetchbus.crawl;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.TreeSet;

/**
 * The fingerprint of a submitted spec, that an Idempotency-Key is remembered with: the SHA-256 of its JSON with
 * the fields of every object in name order, so that a client sending the same request again in another field order
 * (as JSON libraries may) is recognised, and one sending another request is not.
 */
final class RequestHash {
  private RequestHash() {}

  static String of(JsonObject spec) {
    try {
      byte[] canonical = canonical(spec).toString().getBytes(StandardCharsets.UTF_8);
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonical));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  private static Object canonical(Object value) {
    if (value instanceof JsonObject o) {
      JsonObject sorted = new JsonObject();
      for (String name : new TreeSet<>(o.fieldNames())) {
        sorted.put(name, canonical(o.getValue(name)));
      }
      return sorted;
    }
    if (value instanceof JsonArray a) {
      JsonArray out = new JsonArray();
      a.forEach(v -> out.add(canonical(v)));
      return out;
    }
    return value;
  }
}
