package io.fetchbus.auth;

import io.fetchbus.config.Settings;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The start-up rule that keeps a node without API keys off the network: it fails closed, refusing to start rather
 * than serving everyone, unless open access is chosen explicitly ({@code auth.disabled}).
 */
public final class OpenExposure {
  private OpenExposure() {}

  /**
   * Safe by default: without API keys the service (the REST API, and the TCP bridge when enabled) may only listen on
   * a loopback address, unless open access is chosen explicitly. Returns why it must not start, or null.
   */
  public static String refusal(JsonObject cfg) {
    String host = Settings.string(cfg, "http", "host");
    boolean hasKeys = !Settings.array(cfg, "auth", "keys").isEmpty() || !Settings.string(cfg, "auth", "keysFile").isBlank();
    if (hasKeys || Settings.bool(cfg, "auth", "disabled")) {
      return null;
    }
    String exposed = !isLoopback(host) ? "http.host is " + host
        : bridgeEnabled(cfg) && !isLoopback(bridgeHost(cfg)) ? "bridge.host is " + bridgeHost(cfg) : null;
    if (exposed == null) {
      return null;
    }
    return exposed + ", which is not a loopback address, and no API keys are configured. Either "
        + "configure keys (auth.keys, e.g. FETCHBUS_AUTH_KEYS=name:secret, or auth.keysFile), or set "
        + "auth.disabled=true (FETCHBUS_AUTH_DISABLED=true) to serve without access control on purpose.";
  }

  private static boolean bridgeEnabled(JsonObject cfg) {
    return Settings.bool(cfg, "bridge", "enabled");
  }

  private static String bridgeHost(JsonObject cfg) {
    return Settings.string(cfg, "bridge", "host");
  }

  /** Loopback by name or literal address; never a DNS lookup. */
  private static boolean isLoopback(String host) {
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    if (!host.matches("[0-9a-fA-F:.\\[\\]]+")) {
      return false;
    }
    try {
      return InetAddress.getByName(host.replace("[", "").replace("]", "")).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
