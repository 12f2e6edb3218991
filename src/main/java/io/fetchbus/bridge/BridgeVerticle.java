package io.fetchbus.bridge;

import io.fetchbus.auth.FailedAuthThrottle;
import io.fetchbus.auth.Keys;
import io.fetchbus.bus.Bus;
import io.fetchbus.ops.FreePort;
import io.fetchbus.ops.SampledLog;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TCP event-bus bridge: clients in any language send and receive event-bus messages as frames of a 4-byte
 * big-endian length and UTF-8 JSON, the protocol of {@code vertx-tcp-eventbus-bridge}. Fetchbus serves that
 * protocol itself ({@link BridgeConnection}) rather than through the module, which buffers a frame of any announced
 * length before anything can look at it. Opt-in ({@code bridge.enabled}), on loopback by default, limited to the
 * allow-lists {@code bridge.inbound} / {@code bridge.outbound}, to {@code bridge.maxConnections} connections and
 * frames of {@code bridge.maxFrameBytes}, and with API keys configured every frame needs one ({@link FrameGuard}),
 * wrong keys throttled per client address as over REST ({@link FailedAuthThrottle}).
 */
public final class BridgeVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(BridgeVerticle.class);
  /** Peers that break the protocol, and connections refused: a few lines a minute however many there are. */
  private static final long WARN_WINDOW_MS = 60_000;
  private static final int WARNINGS_PER_WINDOW = 10;
  /** With {@code bridge.port} 0, how many free ports to try should another process take one first. */
  private static final int FREE_PORT_ATTEMPTS = 3;

  private NetServer server;
  /** Connections open now; changed only on this verticle's event loop, where the server's handlers run. */
  private int open;

  @Override
  public Future<?> start() {
    BridgeSettings settings;
    try {
      settings = BridgeSettings.from(config());
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    SampledLog badPeers = new SampledLog(vertx, LOG, WARN_WINDOW_MS, WARNINGS_PER_WINDOW, "bad bridge peers");
    SampledLog refusals = new SampledLog(vertx, LOG, WARN_WINDOW_MS, WARNINGS_PER_WINDOW,
        "bridge connections refused over bridge.maxConnections");
    FailedAuthThrottle throttle;
    try {
      throttle = FailedAuthThrottle.shared(vertx, config()); // the API's: an address has one budget for both
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    return Keys.load(vertx, config()).compose(keys -> {
      FrameGuard guard = new FrameGuard(keys, throttle, settings.inbound(), settings.outbound());
      server = vertx.createNetServer(new NetServerOptions().setTcpKeepAlive(true))
          .connectHandler(socket -> connected(socket, settings, guard, badPeers, refusals));
      return listen(settings, FREE_PORT_ATTEMPTS).onSuccess(port -> {
        vertx.sharedData().getLocalMap(Bus.NODE_INFO).put(Bus.NODE_BRIDGE_PORT, port);
        LOG.info("bridge listening on {}:{} ({})", settings.host(), port,
            keys.isEmpty() ? "no API keys: frames are not authenticated" : "every frame needs an API key");
      });
    });
  }

  /**
   * Vert.x shares a server among those listening on one host and port, and port 0 too: with 0, a free port is
   * chosen first ({@link FreePort}) so the bridge never shares the API's.
   */
  private Future<Integer> listen(BridgeSettings settings, int attempts) {
    if (settings.port() != 0) {
      return server.listen(settings.port(), settings.host()).map(settings.port());
    }
    return FreePort.on(vertx, settings.host())
        .compose(port -> server.listen(port, settings.host()).map(port))
        .recover(err -> attempts > 1 ? listen(settings, attempts - 1) : Future.failedFuture(err));
  }

  private void connected(NetSocket socket, BridgeSettings settings, FrameGuard guard, SampledLog badPeers,
                         SampledLog refusals) {
    if (open >= settings.maxConnections()) {
      refusals.warn("bridge refused a connection from {}: {} are open (bridge.maxConnections)", socket.remoteAddress(),
          open);
      Frames.write(socket, Frames.err("too_many_connections: the bridge serves at most " + settings.maxConnections()
          + " connections (bridge.maxConnections); retry later"));
      socket.close();
      return;
    }
    open++;
    new BridgeConnection(vertx, socket, guard, settings.maxFrameBytes(), badPeers, () -> open--);
  }

  /** Closes the port; connected clients are disconnected and their subscriptions end. */
  @Override
  public Future<?> stop() {
    vertx.sharedData().getLocalMap(Bus.NODE_INFO).remove(Bus.NODE_BRIDGE_PORT);
    return server == null ? Future.succeededFuture() : server.close();
  }
}
