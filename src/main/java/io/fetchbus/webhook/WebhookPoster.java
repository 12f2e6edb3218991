package io.fetchbus.webhook;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FailureReplies;
import io.fetchbus.bus.WebUrl;
import io.fetchbus.bus.WebhookDelivery;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@link Bus#WEBHOOK_DELIVER} for the fetch verticle that makes it, because outbound HTTP and the destination
 * guard belong there: one webhook delivery is a POST through the same destination guard as fetches, over a
 * connection to the address the guard checked ({@link Route}), never redirected, within one deadline. The answer is
 * the receiver's status, whatever it is. Its body is read up to {@value #MAX_RESPONSE_BYTES} bytes, so that a short
 * answer leaves the connection reusable, and no further: a longer one closes it.
 */
public final class WebhookPoster {
  static final long MAX_RESPONSE_BYTES = 64 * 1024;
  private static final Logger LOG = LoggerFactory.getLogger(WebhookPoster.class);
  /** Connections to one webhook receiver, per fetch verticle instance. */
  private static final int CONNECTIONS_PER_HOST = 4;

  /** How the fetch verticle reaches a receiver: its destination guard, its request settings, its failure codes. */
  public interface Route {
    /** A POST's options to the address the guard checked for {@code url}, never redirected; 403 when refused. */
    Future<RequestOptions> post(WebUrl url);

    /** A failed exchange with {@code url}, as the fetch engine answers it (502, 504...). */
    ReplyException failure(WebUrl url, Throwable err);
  }

  private final Vertx vertx;
  private final HttpClientAgent client;
  private final Route route;

  /**
   * Deliveries have a pool of their own ({@code maxWaitQueue} waiting at most), so a slow receiver never holds a
   * connection a fetch could use.
   */
  public WebhookPoster(Vertx vertx, int connectTimeoutMs, int maxWaitQueue, Route route) {
    this.vertx = vertx;
    this.route = route;
    this.client = vertx.createHttpClient(new HttpClientOptions()
            .setConnectTimeout(connectTimeoutMs)
            .setKeepAlive(true)
            .setMaxRedirects(0),
        new PoolOptions().setHttp1MaxSize(CONNECTIONS_PER_HOST).setMaxWaitQueueSize(maxWaitQueue));
  }

  public Future<Void> close() {
    return client.close();
  }

  /** One webhook POST; its URL's path and query, its headers and its body are the job owner's secrets: not logged. */
  public void deliver(Message<JsonObject> msg) {
    WebhookDelivery delivery;
    try {
      delivery = WebhookDelivery.from(msg.body());
    } catch (RuntimeException e) {
      FailureReplies.reply(msg, e);
      return;
    }
    post(delivery)
        .onSuccess(status -> {
          LOG.debug("webhook delivery to {} answered {}", origin(delivery), status);
          msg.reply(new JsonObject().put("status", status));
        })
        .onFailure(err -> {
          LOG.debug("webhook delivery to {} failed with {}", origin(delivery), FailureReplies.status(err));
          FailureReplies.reply(msg, err);
        });
  }

  /** The receiver's status code; a refused destination (403), a network failure (502) or no answer in time (504). */
  Future<Integer> post(WebhookDelivery delivery) {
    Promise<Integer> answer = Promise.promise();
    HttpClientRequest[] sent = {null};
    long deadline = vertx.setTimer(delivery.timeoutMs(), t -> {
      if (answer.tryFail(Failure.UPSTREAM_TIMEOUT.exception("the webhook receiver at " + origin(delivery)
          + " did not answer within " + delivery.timeoutMs() + " ms")) && sent[0] != null) {
        sent[0].reset();
      }
    });
    route.post(delivery.url())
        .compose(options -> {
          options.putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
          delivery.headers().forEach(h -> options.getHeaders().set(h.getKey(), (String) h.getValue()));
          return client.request(options);
        })
        .compose(req -> {
          if (answer.future().isComplete()) {
            req.reset(); // the deadline passed while resolving or connecting: nothing is sent
            return Future.failedFuture(answer.future().cause());
          }
          sent[0] = req;
          return req.send(Buffer.buffer(delivery.body())); // UTF-8, the bytes a signature was computed over
        })
        .onSuccess(resp -> {
          drain(resp);
          answer.tryComplete(resp.statusCode());
        })
        .onFailure(err -> answer.tryFail(route.failure(delivery.url(), err)));
    return answer.future().eventually(() -> {
      vertx.cancelTimer(deadline);
      return Future.succeededFuture();
    });
  }

  /** Reads and forgets a short answer (the connection stays open for the next delivery); a long one is cut. */
  private static void drain(HttpClientResponse resp) {
    long[] seen = {0};
    resp.exceptionHandler(ignored -> { }); // the answer is already known; what happens to its body does not matter
    resp.handler(chunk -> {
      seen[0] += chunk.length();
      if (seen[0] > MAX_RESPONSE_BYTES) {
        resp.handler(null);
        resp.request().reset();
      }
    });
  }

  /** Where a delivery goes, for messages: scheme, host and port, never the path or query (they may hold a token). */
  private static String origin(WebhookDelivery delivery) {
    return delivery.url().origin();
  }
}
