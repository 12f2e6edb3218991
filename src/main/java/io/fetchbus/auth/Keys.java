package io.fetchbus.auth;

import io.fetchbus.config.Settings;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The API keys of {@code auth.keys} and {@code auth.keysFile}, each a {@code name:secret} pair, and the check of
 * a presented {@code Bearer <key>} against them. Shared by the REST API and the TCP bridge, which never import
 * each other. Keys are compared in constant time, and every key is compared, so the time taken says nothing
 * about which key, or how much of one, matched. Only names are ever shown; a secret never is.
 */
public final class Keys {
  private static final String BEARER = "Bearer ";

  private final Map<String, byte[]> secretsByName;

  private Keys(Map<String, byte[]> secretsByName) {
    this.secretsByName = secretsByName;
  }

  /** Parses {@code name:secret} entries, skipping blank ones and {@code #} comments; a malformed entry fails start-up (its secret is not repeated). */
  public static Keys of(Iterable<String> entries) {
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
    return new Keys(keys);
  }

  public static Keys of(JsonArray entries) {
    return of(entries.stream().map(String::valueOf).toList());
  }

  /**
   * The keys of the {@code auth} config: {@code keys} plus the lines of the file {@code keysFile} (read without
   * blocking). None when {@code disabled} is true: access control is off on purpose.
   *
   * <p>Fails when keys are configured but none is loaded (a file of comments, {@code FETCHBUS_AUTH_KEYS='#x'}):
   * the operator asked for access control, and serving without it would fail open.
   */
  public static Future<Keys> load(Vertx vertx, JsonObject config) {
    if (Settings.bool(config, "auth", "disabled")) {
      return Future.succeededFuture(of(new JsonArray()));
    }
    JsonArray keys = Settings.array(config, "auth", "keys").copy();
    String file = Settings.string(config, "auth", "keysFile");
    if (keys.isEmpty() && file.isBlank()) {
      return Future.succeededFuture(of(keys));
    }
    Future<Keys> loaded = file.isBlank() ? Future.succeededFuture(of(keys))
        : vertx.fileSystem().readFile(file).map(content -> {
          content.toString().lines().forEach(keys::add);
          return of(keys);
        });
    return loaded.compose(k -> k.isEmpty()
        ? Future.failedFuture(new IllegalStateException(noKeyLoaded(file))) : Future.succeededFuture(k));
  }

  private static String noKeyLoaded(String file) {
    return "API keys are configured (auth.keys" + (file.isBlank() ? "" : ", auth.keysFile " + file)
        + "), but none is a name:secret entry (only blanks or # comments): refusing to start without access "
        + "control. Configure at least one key, or remove the setting to serve on a loopback address only, or set "
        + "auth.disabled=true (FETCHBUS_AUTH_DISABLED=true) to serve without keys on purpose.";
  }

  public boolean isEmpty() {
    return secretsByName.isEmpty();
  }

  /** The key of an {@code Authorization} value {@code Bearer <key>} (the scheme in any case), or null when it is not one. */
  public static String bearer(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return null;
    }
    return authorization.substring(BEARER.length()).strip();
  }

  /** The name of the key that the {@code Authorization} value {@code Bearer <key>} presents, or null for none. */
  public String match(String authorization) {
    String key = bearer(authorization);
    if (key == null) {
      return null;
    }
    byte[] presented = key.getBytes(StandardCharsets.UTF_8);
    String matched = null;
    for (Map.Entry<String, byte[]> entry : secretsByName.entrySet()) {
      if (MessageDigest.isEqual(presented, entry.getValue()) && matched == null) {
        matched = entry.getKey();
      }
    }
    return matched;
  }
}
