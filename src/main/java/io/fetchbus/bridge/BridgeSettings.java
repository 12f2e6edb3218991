package io.fetchbus.bridge;

import io.fetchbus.config.Settings;
import io.vertx.core.json.JsonObject;

/**
 * The {@code bridge} part of the configuration, checked once at start: a bad value fails start-up, naming its key.
 * {@code maxFrameBytes} and {@code maxConnections} bound what clients can make the bridge hold: at most one frame
 * being read per connection, so about their product in all. Read without defaults: the configuration holds the
 * jar's ({@link Settings}).
 */
record BridgeSettings(String host, int port, AllowList inbound, AllowList outbound, int maxFrameBytes,
                      int maxConnections) {
  /** A frame must hold at least a small request; the upper bound keeps one frame in one Java array. */
  static final int MIN_FRAME_BYTES = 1024;
  static final int MAX_FRAME_BYTES = Integer.MAX_VALUE - 8;

  static BridgeSettings from(JsonObject cfg) {
    String host = Settings.string(cfg, "bridge", "host");
    int port = Settings.number(cfg, "bridge", "port").intValue();
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("bridge.port must be between 0 and 65535");
    }
    long maxFrameBytes = Settings.number(cfg, "bridge", "maxFrameBytes").longValue();
    if (maxFrameBytes < MIN_FRAME_BYTES || maxFrameBytes > MAX_FRAME_BYTES) {
      throw new IllegalArgumentException("bridge.maxFrameBytes must be between " + MIN_FRAME_BYTES + " and "
          + MAX_FRAME_BYTES);
    }
    int maxConnections = Settings.number(cfg, "bridge", "maxConnections").intValue();
    if (maxConnections < 1) {
      throw new IllegalArgumentException("bridge.maxConnections must be at least 1");
    }
    AllowList inbound = AllowList.of("bridge.inbound", Settings.array(cfg, "bridge", "inbound"));
    AllowList outbound = AllowList.of("bridge.outbound", Settings.array(cfg, "bridge", "outbound"));
    Exposure.check(inbound, outbound);
    return new BridgeSettings(host, port, inbound, outbound, (int) maxFrameBytes, maxConnections);
  }
}
