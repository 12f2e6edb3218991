package io.fetchbus.bridge;

import io.fetchbus.auth.Keys;
import io.fetchbus.bus.Bus;
import io.fetchbus.ops.FreePort;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServerOptions;
import io.vertx.ext.bridge.BridgeOptions;
import io.vertx.ext.eventbus.bridge.tcp.TcpEventBusBridge;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TCP event-bus bridge ({@code vertx-tcp-eventbus-bridge}): clients in any language send and receive
 * event-bus messages as frames of a 4-byte big-endian length and UTF-8 JSON. Opt-in ({@code bridge.enabled}),
 * on loopback by default, limited to the allow-lists {@code bridge.inbound} / {@code bridge.outbound}, and with
 * API keys configured every frame needs one ({@link FrameGuard}). It holds no state of its own: what a client
 * sends goes on the bus as it would from any verticle.
 */
public final class BridgeVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(BridgeVerticle.class);
  /** With {@code bridge.port} 0, how many free ports to try should another process take one first. */
  private static final int FREE_PORT_ATTEMPTS = 3;

  private TcpEventBusBridge bridge;

  @Override
  public Future<?> start() {
    BridgeSettings settings;
    try {
      settings = BridgeSettings.from(config());
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    return Keys.load(vertx, config().getJsonObject("auth", new JsonObject()))
        .compose(keys -> listen(settings, keys, FREE_PORT_ATTEMPTS).onSuccess(port -> {
          vertx.sharedData().getLocalMap(Bus.NODE_INFO).put(Bus.NODE_BRIDGE_PORT, port);
          LOG.info("bridge listening on {}:{} ({})", settings.host(), port,
              keys.isEmpty() ? "no API keys: frames are not authenticated" : "every frame needs an API key");
        }));
  }

  private Future<Integer> listen(BridgeSettings settings, Keys keys, int attempts) {
    BridgeOptions options = new BridgeOptions()
        .setInboundPermitteds(settings.inbound().permitted())
        .setOutboundPermitteds(settings.outbound().permitted());
    bridge = TcpEventBusBridge.create(vertx, options, new NetServerOptions().setTcpKeepAlive(true),
        new FrameGuard(keys, settings.inbound(), settings.outbound()));
    if (settings.port() != 0) {
      return bridge.listen(settings.port(), settings.host()).map(settings.port());
    }
    // The bridge does not tell the port it got for 0, so a free one is chosen first and then listened on.
    return FreePort.on(vertx, settings.host())
        .compose(port -> bridge.listen(port, settings.host()).map(port))
        .recover(err -> attempts > 1 ? listen(settings, keys, attempts - 1) : Future.failedFuture(err));
  }

  /** Closes the port; connected clients are disconnected and their subscriptions end. */
  @Override
  public Future<?> stop() {
    return bridge == null ? Future.succeededFuture() : bridge.close();
  }
}
