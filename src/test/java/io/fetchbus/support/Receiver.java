package io.fetchbus.support;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A webhook receiver on 127.0.0.1 that records every request it gets, with the status it answered. What it
 * answers is up to the test ({@link #answer}); a few paths behave on their own: {@code /hang} never answers,
 * {@code /redirect} answers 302 to {@code /landed}, {@code /big} answers 500 with a 1 MiB body.
 */
public final class Receiver {
  /** One request as it arrived. */
  public record Request(String method, String path, MultiMap headers, Buffer body, int answered) {
    public String header(String name) {
      return headers.get(name);
    }

    public JsonObject json() {
      return new JsonObject(body);
    }
  }

  private final List<Request> received = new CopyOnWriteArrayList<>();
  private volatile Function<Request, Integer> answer = r -> 204;
  private HttpServer server;

  public static Future<Receiver> start(Vertx vertx) {
    Receiver receiver = new Receiver();
    return vertx.createHttpServer().requestHandler(receiver::handle).listen(0, "127.0.0.1").map(s -> {
      receiver.server = s;
      return receiver;
    });
  }

  /** How to answer each request from now on: its status (it sees the request, without {@code answered}). */
  public void answer(Function<Request, Integer> status) {
    answer = status;
  }

  private void handle(HttpServerRequest req) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().addAll(req.headers());
    req.body().onSuccess(body -> {
      String path = req.path();
      if (path.equals("/hang")) {
        received.add(new Request(req.method().name(), path, headers, body, 0));
        return;
      }
      int status = path.equals("/redirect") ? 302 : path.equals("/big") ? 500
          : answer.apply(new Request(req.method().name(), path, headers, body, 0));
      received.add(new Request(req.method().name(), path, headers, body, status));
      if (path.equals("/redirect")) {
        req.response().setStatusCode(302).putHeader("Location", "/landed").end();
      } else if (path.equals("/big")) {
        req.response().setStatusCode(500).end(Buffer.buffer(new byte[1 << 20]));
      } else {
        req.response().setStatusCode(status).end();
      }
    });
  }

  /** Every request so far, in order of arrival. */
  public List<Request> received() {
    return List.copyOf(received);
  }

  public String url(String path) {
    return "http://127.0.0.1:" + port() + path;
  }

  public int port() {
    return server.actualPort();
  }
}
