package io.fetchbus.config;

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

  private static long required(JsonObject cfg, String section, String name) {
    Object value = cfg.getJsonObject(section, new JsonObject()).getValue(name);
    if (!(value instanceof Number n)) {
      throw new IllegalStateException(section + "." + name + " is missing from the configuration: it comes with the "
          + "jar's defaults (" + ConfigLoader.DEFAULTS_RESOURCE + "), so the configuration was not built by ConfigLoader");
    }
    return n.longValue();
  }
}
