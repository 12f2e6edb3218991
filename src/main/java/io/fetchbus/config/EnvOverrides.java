package io.fetchbus.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Overrides config keys from environment variables: the key's path in upper snake case after {@code FETCHBUS_},
 * where a dot and a camelCase boundary both become {@code _} ({@code fetch.maxBodyBytes} ->
 * {@code FETCHBUS_FETCH_MAX_BODY_BYTES}). Values are parsed as the type of the default, so a typo fails start-up
 * with the variable's name instead of surfacing later.
 */
public final class EnvOverrides {
  public static final String PREFIX = "FETCHBUS_";
  /** Variables read outside the config: the config file's path (ConfigLoader) and the log level (logback.xml). */
  private static final Set<String> OUTSIDE_CONFIG = Set.of("FETCHBUS_CONFIG", "FETCHBUS_LOG_LEVEL");

  private EnvOverrides() {}

  /** A copy of {@code config} with every matching variable applied. */
  public static JsonObject apply(JsonObject config, Map<String, String> env) {
    JsonObject out = config.copy();
    overlay(out, "", env);
    return out;
  }

  /** Variables that start with the prefix but name no key: worth a warning, they are probably typos. */
  public static List<String> unknown(JsonObject config, Map<String, String> env) {
    Set<String> known = new HashSet<>();
    collect(config, "", known);
    List<String> out = new ArrayList<>();
    for (String name : env.keySet()) {
      if (name.startsWith(PREFIX) && !known.contains(name) && !OUTSIDE_CONFIG.contains(name)) {
        out.add(name);
      }
    }
    out.sort(null);
    return out;
  }

  /** {@code fetch.maxBodyBytes} -> {@code FETCHBUS_FETCH_MAX_BODY_BYTES}. */
  public static String variableName(String path) {
    StringBuilder sb = new StringBuilder(PREFIX);
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '.') {
        sb.append('_');
      } else if (Character.isUpperCase(c) && i > 0 && path.charAt(i - 1) != '.') {
        sb.append('_').append(c);
      } else {
        sb.append(Character.toUpperCase(c));
      }
    }
    return sb.toString();
  }

  private static void collect(JsonObject json, String prefix, Set<String> names) {
    for (String key : json.fieldNames()) {
      Object v = json.getValue(key);
      if (v instanceof JsonObject child) {
        collect(child, prefix + key + ".", names);
      } else {
        names.add(variableName(prefix + key));
      }
    }
  }

  private static void overlay(JsonObject json, String prefix, Map<String, String> env) {
    for (String key : new ArrayList<>(json.fieldNames())) {
      Object current = json.getValue(key);
      String path = prefix + key;
      if (current instanceof JsonObject child) {
        overlay(child, path + ".", env);
        continue;
      }
      String name = variableName(path);
      String raw = env.get(name);
      if (raw != null) {
        json.put(key, parse(name, raw.trim(), current));
      }
    }
  }

  private static Object parse(String name, String raw, Object current) {
    try {
      if (current instanceof Integer || current instanceof Long) {
        long v = Long.parseLong(raw);
        return current instanceof Integer && v == (int) v ? (Object) (int) v : (Object) v;
      }
      if (current instanceof Number) {
        return Double.parseDouble(raw);
      }
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": expected a number, got '" + raw + "'");
    }
    if (current instanceof Boolean) {
      if (raw.equalsIgnoreCase("true") || raw.equalsIgnoreCase("false")) {
        return Boolean.parseBoolean(raw);
      }
      throw new IllegalArgumentException(name + ": expected true or false, got '" + raw + "'");
    }
    if (current instanceof JsonArray) {
      JsonArray arr = new JsonArray();
      for (String part : raw.split(",")) {
        if (!part.isBlank()) {
          arr.add(part.trim());
        }
      }
      return arr;
    }
    return raw;
  }
}
