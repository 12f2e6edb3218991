package io.fetchbus.ops;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * A port the system says is free on a host, for a server that must know its port before it listens (the API's
 * instances that share one, the TCP bridge that does not report the port it got for 0). Not through a Vert.x
 * server: one listening on 0 could be handed another server's port. Opening a socket is a system call, so it runs
 * on a worker thread. Another process may take the port before it is used: callers try again.
 */
public final class FreePort {
  private FreePort() {}

  public static Future<Integer> on(Vertx vertx, String host) {
    return vertx.executeBlocking(() -> {
      try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName(host))) {
        return probe.getLocalPort();
      }
    }, false);
  }
}
