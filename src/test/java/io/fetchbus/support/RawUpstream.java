package io.fetchbus.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.util.Map;

/**
 * A TCP server on 127.0.0.1 that answers HTTP requests with bytes no proper server would send: a broken
 * status line, an enormous header, a broken or cut chunked body. It reads the request line to pick the reply.
 */
public final class RawUpstream {
  private static final String OK = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n";
  private static final Map<String, String> REPLIES = Map.of(
      "/bad-status", "HTTP/1.1 2xx Whatever\r\nContent-Length: 2\r\n\r\nok",
      "/huge-header", OK + "X-Filler: " + "a".repeat(100_000) + "\r\nContent-Length: 2\r\n\r\nok",
      "/bad-chunked", OK + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZZZ\r\nnot a chunk\r\n0\r\n\r\n",
      "/cut-chunked", OK + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
  private final NetServer server;

  private RawUpstream(NetServer server) {
    this.server = server;
  }

  public static Future<RawUpstream> start(Vertx vertx) {
    NetServer server = vertx.createNetServer().connectHandler(RawUpstream::serve);
    return server.listen(0, "127.0.0.1").map(s -> new RawUpstream(s));
  }

  public String url(String path) {
    return "http://127.0.0.1:" + server.actualPort() + path;
  }

  private static void serve(NetSocket socket) {
    Buffer request = Buffer.buffer();
    socket.handler(chunk -> {
      request.appendBuffer(chunk);
      String text = request.toString();
      int end = text.indexOf("\r\n\r\n");
      if (end < 0) {
        return;
      }
      String path = text.substring(text.indexOf(' ') + 1, text.indexOf(' ', text.indexOf(' ') + 1));
      // One request per connection: every reply closes it (robots.txt included, as a plain 404).
      socket.handler(null);
      String reply = REPLIES.getOrDefault(path, "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      socket.write(reply).onComplete(v -> socket.close());
    });
  }
}
