package io.fetchbus.bridge;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The {@code bridge} part of the configuration, checked once at start: a bad value fails start-up, naming its key.
 * {@code maxFrameBytes} and {@code maxConnections} bound what clients can make the bridge hold: at most one frame
 * being read per connection, so about their product in all.
 */
record BridgeSettings(String host, int port, AllowList inbound, AllowList outbound, int maxFrameBytes,
                      int maxConnections) {
  /** A frame must hold at least a small request; the upper bound keeps one frame in one Java array. */
  static final int MIN_FRAME_BYTES = 1024;
  static final int MAX_FRAME_BYTES = Integer.MAX_VALUE - 8;

  static BridgeSettings from(JsonObject cfg) {
    JsonObject bridge = cfg.getJsonObject("bridge", new JsonObject());
    String host = bridge.getString("host", "127.0.0.1");
    int port = bridge.getInteger("port", 7000);
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("bridge.port must be between 0 and 65535");
    }
    long maxFrameBytes = bridge.getLong("maxFrameBytes", 262_144L);
    if (maxFrameBytes < MIN_FRAME_BYTES || maxFrameBytes > MAX_FRAME_BYTES) {
      throw new IllegalArgumentException("bridge.maxFrameBytes must be between " + MIN_FRAME_BYTES + " and "
          + MAX_FRAME_BYTES);
    }
    int maxConnections = bridge.getInteger("maxConnections", 100);
    if (maxConnections < 1) {
      throw new IllegalArgumentException("bridge.maxConnections must be at least 1");
    }
    AllowList inbound = AllowList.of("bridge.inbound", bridge.getJsonArray("inbound", new JsonArray()));
    AllowList outbound = AllowList.of("bridge.outbound", bridge.getJsonArray("outbound", new JsonArray()));
    Exposure.check(inbound, outbound);
    return new BridgeSettings(host, port, inbound, outbound, (int) maxFrameBytes, maxConnections);
  }
}
