package io.fetchbus.api;

import io.vertx.core.Handler;
import io.vertx.core.json.JsonArray;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code Authorization: Bearer <key>} against the configured keys, each with a name for logs; the key itself
 * is never logged. Keys are compared in constant time, and every key is compared, so the time taken says
 * nothing about which key, or how much of one, matched.
 */
final class ApiKeys implements Handler<RoutingContext> {
  /** Where the name of the key a request used is kept in its routing context. */
  static final String KEY_NAME = "fetchbus.keyName";

  private final Map<String, byte[]> secretsByName;

  private ApiKeys(Map<String, byte[]> secretsByName) {
    this.secretsByName = secretsByName;
  }

  /** Parses {@code name:secret} entries; a malformed entry fails start-up (its secret is not repeated). */
  static ApiKeys of(Iterable<String> entries) {
    Map<String, byte[]> keys = new LinkedHashMap<>();
    int n = 0;
    for (String entry : entries) {
      n++;
      String e = entry.strip();
      if (e.isEmpty() || e.startsWith("#")) {
        continue;
      }
      int colon = e.indexOf(':');
      if (colon <= 0 || colon == e.length() - 1) {
        throw new IllegalArgumentException("auth key entry " + n + " is not name:secret");
      }
      keys.put(e.substring(0, colon), e.substring(colon + 1).getBytes(StandardCharsets.UTF_8));
    }
    return new ApiKeys(keys);
  }

  static ApiKeys of(JsonArray entries) {
    return of(entries.stream().map(String::valueOf).toList());
  }

  boolean isEmpty() {
    return secretsByName.isEmpty();
  }

  @Override
  public void handle(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      refuse(ctx, "this API needs an API key: send Authorization: Bearer <key>");
      return;
    }
    byte[] presented = header.substring(7).strip().getBytes(StandardCharsets.UTF_8);
    String matched = null;
    for (Map.Entry<String, byte[]> key : secretsByName.entrySet()) {
      if (MessageDigest.isEqual(presented, key.getValue()) && matched == null) {
        matched = key.getKey();
      }
    }
    if (matched == null) {
      refuse(ctx, "the API key is not valid");
      return;
    }
    ctx.put(KEY_NAME, matched);
    ctx.next();
  }

  private static void refuse(RoutingContext ctx, String detail) {
    ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"fetchbus\"");
    ctx.fail(new HttpException(401, detail));
  }
}
