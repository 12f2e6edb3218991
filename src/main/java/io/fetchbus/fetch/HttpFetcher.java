package io.fetchbus.fetch;

import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FetchResult;
import io.fetchbus.bus.WebUrl;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * One upstream GET: redirects followed by hand (each hop validated, loops detected, hops limited), the body
 * read as it streams in and cut off at the size limit, the whole exchange bounded by one deadline that a slow
 * server cannot extend. Uses the core HTTP client rather than the Web Client because only the core client can
 * abort a response in the middle of its body (the Web Client drains it to the end).
 */
final class HttpFetcher {
  /** The response headers a result keeps: what a client needs to interpret or revalidate the body. */
  static final List<String> KEPT_HEADERS = List.of("content-type", "content-length", "content-language",
      "etag", "last-modified", "cache-control", "expires");
  static final int MAX_HEADER_VALUE = 1024;
  private static final Set<Integer> REDIRECTS = Set.of(301, 302, 303, 307, 308);

  private final Vertx vertx;
  private final HttpClient client;
  private final FetchSettings settings;
  private final DestinationGuard guard;

  HttpFetcher(Vertx vertx, HttpClient client, FetchSettings settings, DestinationGuard guard) {
    this.vertx = vertx;
    this.client = client;
    this.settings = settings;
    this.guard = guard;
  }

  Future<FetchResult> fetch(WebUrl url) {
    return new Exchange(url).run();
  }

  /** The state of one fetch across its redirect hops. */
  private final class Exchange {
    private final WebUrl original;
    private final Instant startedAt = Instant.now().truncatedTo(ChronoUnit.MICROS); // what Postgres keeps
    private final long startNanos = System.nanoTime();
    private final Promise<FetchResult> promise = Promise.promise();
    private final Set<String> visited = new HashSet<>();
    private HttpClientRequest current;

    Exchange(WebUrl original) {
      this.original = original;
    }

    Future<FetchResult> run() {
      long timer = vertx.setTimer(settings.timeoutMs(), t -> abort(Failure.UPSTREAM_TIMEOUT.exception(
          "no complete response from " + original.host() + " within " + settings.timeoutMs() + " ms (fetch.timeoutMs)")));
      hop(original, 0);
      return promise.future().eventually(() -> {
        vertx.cancelTimer(timer);
        return Future.succeededFuture();
      });
    }

    private void abort(ReplyException failure) {
      if (promise.tryFail(failure) && current != null) {
        current.reset();
      }
    }

    private void hop(WebUrl url, int redirects) {
      if (promise.future().isComplete()) {
        return;
      }
      visited.add(url.key());
      RequestOptions options = new RequestOptions()
          .setMethod(HttpMethod.GET)
          .setAbsoluteURI(url.uri().toString())
          .setFollowRedirects(false)
          .setConnectTimeout(settings.connectTimeoutMs())
          .setIdleTimeout(settings.idleTimeoutMs())
          .putHeader(HttpHeaders.USER_AGENT, settings.userAgent())
          .putHeader(HttpHeaders.ACCEPT, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
      // Every hop, redirects included, goes to an address the guard checked, and only there.
      guard.check(url)
          .compose(server -> client.request(options.setServer(server)))
          .compose(req -> {
            current = req;
            return req.send();
          })
          .onSuccess(resp -> {
            try {
              if (promise.future().isComplete()) {
                discard(resp); // the deadline passed while we were connecting
              } else if (REDIRECTS.contains(resp.statusCode()) && resp.getHeader(HttpHeaders.LOCATION) != null) {
                redirect(url, resp, redirects);
              } else {
                readBody(url, resp);
              }
            } catch (RuntimeException e) {
              // Whatever an upstream sends must end this fetch with an answer, never leave it hanging.
              discard(resp);
              abort(UpstreamErrors.classify(url, e, settings));
            }
          })
          .onFailure(err -> abort(UpstreamErrors.classify(url, err, settings)));
    }

    private void redirect(WebUrl from, HttpClientResponse resp, int redirects) {
      // The body of a redirect is not needed: closing the connection is cheaper than reading an unbounded body.
      discard(resp);
      String location = resp.getHeader(HttpHeaders.LOCATION);
      if (redirects >= settings.maxRedirects()) {
        abort(Failure.UPSTREAM.exception("too many redirects: more than " + settings.maxRedirects()
            + " starting at " + original + " (fetch.maxRedirects)"));
        return;
      }
      WebUrl next;
      try {
        next = from.resolve("redirect Location", location);
      } catch (ReplyException e) {
        abort(Failure.UPSTREAM.exception(from + " redirected to an unusable location: " + e.getMessage()));
        return;
      }
      if (visited.contains(next.key())) {
        abort(Failure.UPSTREAM.exception("redirect loop: " + from + " redirects back to " + next));
        return;
      }
      hop(next, redirects + 1);
    }

    private void readBody(WebUrl url, HttpClientResponse resp) {
      resp.exceptionHandler(err -> abort(UpstreamErrors.classify(url, err, settings)));
      long max = settings.maxBodyBytes();
      String declared = resp.getHeader(HttpHeaders.CONTENT_LENGTH);
      long declaredLength = parseLength(declared);
      // A declared length over the limit is refused up front; a lying or missing one is caught while streaming.
      if (declaredLength > max) {
        abort(tooLarge(url, declaredLength));
        return;
      }
      BodyAccumulator body = new BodyAccumulator(declaredLength > 0 ? (int) declaredLength : 16 * 1024);
      resp.handler(chunk -> {
        if (body.size() + chunk.length() > max) {
          abort(tooLarge(url, body.size() + chunk.length()));
        } else {
          body.append(chunk);
        }
      });
      resp.endHandler(v -> {
        if (declaredLength >= 0 && body.size() != declaredLength && resp.getHeader(HttpHeaders.CONTENT_ENCODING) == null) {
          abort(Failure.UPSTREAM.exception(url + " ended its body after " + body.size() + " of the "
              + declaredLength + " bytes its Content-Length announced"));
        } else {
          promise.tryComplete(result(url, resp, body));
        }
      });
    }

    private ReplyException tooLarge(WebUrl url, long seen) {
      return Failure.TOO_LARGE.exception("response body of " + url + " exceeds the limit of "
          + settings.maxBodyBytes() + " bytes (fetch.maxBodyBytes); at least " + seen + " bytes were sent");
    }

    private FetchResult result(WebUrl finalUrl, HttpClientResponse resp, BodyAccumulator body) {
      JsonObject headers = new JsonObject();
      for (String name : KEPT_HEADERS) {
        String value = capped(resp.getHeader(name));
        if (value != null) {
          headers.put(name, value);
        }
      }
      long elapsedMs = (System.nanoTime() - startNanos) / 1_000_000;
      Buffer bytes = body.buffer();
      return new FetchResult(UUID.randomUUID().toString(), original.toString(), finalUrl.toString(),
          resp.statusCode(), capped(resp.getHeader(HttpHeaders.CONTENT_TYPE)), headers, bytes.length(), body.sha256(),
          elapsedMs, startedAt, false, bytes);
    }
  }

  /** Header values are the upstream's to choose: keep at most {@link #MAX_HEADER_VALUE} characters of each. */
  private static String capped(String value) {
    return value == null || value.length() <= MAX_HEADER_VALUE ? value : value.substring(0, MAX_HEADER_VALUE);
  }

  /** Abandons a response we do not want: the connection is closed, and the reset it reports is expected. */
  private static void discard(HttpClientResponse resp) {
    resp.exceptionHandler(ignored -> { });
    resp.request().reset();
  }

  private static long parseLength(String value) {
    if (value == null) {
      return -1;
    }
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
