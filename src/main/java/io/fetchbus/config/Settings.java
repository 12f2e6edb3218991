package io.fetchbus.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The settings several parts of the service read, each read one way. The effective configuration always holds every
 * setting ({@link ConfigLoader} lays the jar's copy of {@code conf/config.json} under the rest), so a default written
 * in code again would only be a second copy free to drift: a setting missing here is a bug, said so at once.
 */
public final class Settings {
  private Settings() {}

  /** {@code pg.requestTimeoutMs}: how long a request to the store may take, and so a bus request to a store node. */
  public static long storeTimeoutMs(JsonObject cfg) {
    return required(cfg, "pg", "requestTimeoutMs");
  }

  /** {@code shutdown.graceMs}: how long work in progress has to finish once a shutdown starts. */
  public static long graceMs(JsonObject cfg) {
    return required(cfg, "shutdown", "graceMs");
  }

  /** {@code fetch.timeoutMs}: a fetch's whole deadline, which the API and the crawl wait for, with a margin. */
  public static long fetchTimeoutMs(JsonObject cfg) {
    return required(cfg, "fetch", "timeoutMs");
  }

  /**
   * {@code section.name}, a number; missing, the configuration was not built by {@link ConfigLoader}. A nested
   * section is named with dots ({@code fetch.retry}).
   */
  public static Number number(JsonObject cfg, String section, String name) {
    return (Number) value(cfg, section, name, Number.class);
  }

  /** {@code section.name}, a boolean, read as {@link #number} is. */
  public static boolean bool(JsonObject cfg, String section, String name) {
    return (Boolean) value(cfg, section, name, Boolean.class);
  }

  /** {@code section.name}, a string, read as {@link #number} is. */
  public static String string(JsonObject cfg, String section, String name) {
    return (String) value(cfg, section, name, String.class);
  }

  /** {@code section.name}, an array, read as {@link #number} is. */
  public static JsonArray array(JsonObject cfg, String section, String name) {
    return (JsonArray) value(cfg, section, name, JsonArray.class);
  }

  private static long required(JsonObject cfg, String section, String name) {
    return number(cfg, section, name).longValue();
  }

  private static Object value(JsonObject cfg, String section, String name, Class<?> type) {
    JsonObject at = cfg;
    for (String part : section.split("\\.")) {
      at = at == null || !(at.getValue(part) instanceof JsonObject inner) ? null : inner;
    }
    Object value = at == null ? null : at.getValue(name);
    if (value == null) {
      throw new IllegalStateException(section + "." + name + " is missing from the configuration: it comes with the "
          + "jar's defaults (" + ConfigLoader.DEFAULTS_RESOURCE + "), so the configuration was not built by ConfigLoader");
    }
    if (!type.isInstance(value)) {
      throw new IllegalArgumentException(section + "." + name + " must be a " + type.getSimpleName().toLowerCase(
          java.util.Locale.ROOT) + ", got " + value);
    }
    return value;
  }
}
