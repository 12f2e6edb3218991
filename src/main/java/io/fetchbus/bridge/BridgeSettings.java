package io.fetchbus.bridge;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** The {@code bridge} part of the configuration, checked once at start: a bad value fails start-up, naming its key. */
record BridgeSettings(String host, int port, AllowList inbound, AllowList outbound) {

  static BridgeSettings from(JsonObject cfg) {
    JsonObject bridge = cfg.getJsonObject("bridge", new JsonObject());
    String host = bridge.getString("host", "127.0.0.1");
    int port = bridge.getInteger("port", 7000);
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("bridge.port must be between 0 and 65535");
    }
    AllowList inbound = AllowList.of("bridge.inbound", bridge.getJsonArray("inbound", new JsonArray()));
    AllowList outbound = AllowList.of("bridge.outbound", bridge.getJsonArray("outbound", new JsonArray()));
    Exposure.check(inbound, outbound);
    return new BridgeSettings(host, port, inbound, outbound);
  }
}
