package io.fetchbus;

import io.fetchbus.config.ConfigLoader;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The parts a node runs ({@code roles}, {@code FETCHBUS_ROLES}, {@code --roles}): any of {@code api},
 * {@code fetch}, {@code extract}, {@code store} and {@code crawl}; all of them by default. The others reach what a
 * node lacks over the clustered event bus.
 */
final class Roles {
  static final String API = "api";
  static final String FETCH = "fetch";
  static final String EXTRACT = "extract";
  static final String STORE = "store";
  static final String CRAWL = "crawl";
  static final List<String> ALL = List.of(API, FETCH, EXTRACT, STORE, CRAWL);

  private Roles() {}

  /** The roles of {@code cfg}, checked: known names only, at least one. */
  static Set<String> of(JsonObject cfg) {
    Object value = cfg.getValue("roles");
    if (value == null) {
      // Every role is the jar's default (conf/config.json), which the configuration always holds: see Settings.
      throw new IllegalStateException("roles is missing from the configuration: it comes with the jar's defaults ("
          + ConfigLoader.DEFAULTS_RESOURCE + "), so the configuration was not built by ConfigLoader");
    }
    JsonArray roles = value instanceof JsonArray a ? a
        : value instanceof String s ? parse(s) : null;
    if (roles == null) {
      throw new IllegalArgumentException("roles must be a list of " + String.join(", ", ALL));
    }
    Set<String> out = new LinkedHashSet<>();
    for (Object role : roles) {
      String name = String.valueOf(role).trim().toLowerCase(java.util.Locale.ROOT);
      if (!ALL.contains(name)) {
        throw new IllegalArgumentException("roles: unknown role '" + role + "'; the roles are " + String.join(", ", ALL));
      }
      out.add(name);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("roles: at least one of " + String.join(", ", ALL) + " is needed");
    }
    return out;
  }

  /** {@code api,fetch} as a JSON array, the form of the {@code roles} key. */
  static JsonArray parse(String commaSeparated) {
    JsonArray out = new JsonArray();
    for (String part : commaSeparated.split(",")) {
      if (!part.isBlank()) {
        out.add(part.trim());
      }
    }
    return out;
  }
}
