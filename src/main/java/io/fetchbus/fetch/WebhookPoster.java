package io.fetchbus.fetch;

import io.fetchbus.bus.Failure;
import io.fetchbus.bus.WebhookDelivery;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

/**
 * One webhook delivery: a POST through the same destination guard as fetches, over a connection to the address
 * the guard checked ({@link HttpFetcher#guardedRequest}), never redirected, within one deadline. The answer is
 * the receiver's status, whatever it is. Its body is read up to {@value #MAX_RESPONSE_BYTES} bytes, so that a
 * short answer leaves the connection reusable, and no further: a longer one closes it.
 */
final class WebhookPoster {
  static final long MAX_RESPONSE_BYTES = 64 * 1024;

  private final Vertx vertx;
  private final HttpClient client;
  private final DestinationGuard guard;
  private final FetchSettings settings;

  WebhookPoster(Vertx vertx, HttpClient client, DestinationGuard guard, FetchSettings settings) {
    this.vertx = vertx;
    this.client = client;
    this.guard = guard;
    this.settings = settings;
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
    guard.check(delivery.url())
        .compose(server -> {
          RequestOptions options = HttpFetcher.guardedRequest(HttpMethod.POST, delivery.url(), server, settings)
              .setIdleTimeout(settings.idleTimeoutMs())
              .putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
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
        .onFailure(err -> answer.tryFail(UpstreamErrors.classify(delivery.url(), err, settings)));
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
        HttpFetcher.discard(resp);
      }
    });
  }

  /** Where a delivery goes, for messages: scheme, host and port, never the path or query (they may hold a token). */
  static String origin(WebhookDelivery delivery) {
    return delivery.url().origin();
  }
}
