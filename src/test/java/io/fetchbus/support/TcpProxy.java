package io.fetchbus.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP relay on 127.0.0.1 in front of a real server, which a test can cut ({@link #stop}: the port refuses
 * connections and open ones are closed) and restore ({@link #start}) on the same port: a database outage
 * without stopping the database other tests share.
 */
public final class TcpProxy {
  private final Vertx vertx;
  private final String targetHost;
  private final int targetPort;
  private final NetClient client;
  private final Set<NetSocket> open = ConcurrentHashMap.newKeySet();
  private NetServer server;
  private int port;

  public TcpProxy(Vertx vertx, String targetHost, int targetPort) {
    this.vertx = vertx;
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.client = vertx.createNetClient();
  }

  /** Reserves a free port without listening on it yet: connections to it are refused until {@link #start}. */
  public Future<Integer> reservePort() {
    return vertx.createNetServer().connectHandler(NetSocket::close).listen(0, "127.0.0.1")
        .compose(s -> {
          port = s.actualPort();
          return s.close();
        })
        .map(v -> port);
  }

  public int port() {
    return port;
  }

  public Future<Integer> start() {
    server = vertx.createNetServer().connectHandler(this::relay);
    return server.listen(port, "127.0.0.1").map(s -> {
      port = s.actualPort();
      return port;
    });
  }

  public Future<Void> stop() {
    open.forEach(NetSocket::close);
    open.clear();
    return server == null ? Future.succeededFuture() : server.close();
  }

  private void relay(NetSocket inbound) {
    inbound.pause();
    open.add(inbound);
    client.connect(targetPort, targetHost).onSuccess(outbound -> {
      open.add(outbound);
      inbound.pipeTo(outbound);
      outbound.pipeTo(inbound);
      inbound.closeHandler(v -> outbound.close());
      outbound.closeHandler(v -> inbound.close());
      inbound.resume();
    }).onFailure(err -> inbound.close());
  }
}
