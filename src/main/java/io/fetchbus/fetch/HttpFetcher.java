package io.fetchbus.fetch;

import io.fetchbus.bus.Backoff;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FetchResult;
import io.fetchbus.bus.HttpExchange;
import io.fetchbus.bus.RetryAfter;
import io.fetchbus.bus.WebUrl;
import io.fetchbus.ops.Meters;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeoutException;

/**
 * One logical upstream GET. Each hop (redirects are followed by hand) passes the destination guard, robots.txt
 * (unless told otherwise) and the politeness limiter, then connects to the address the guard checked. The body
 * is read as it streams in and cut off at the size limit; connect errors, timeouts and 429/502/503/504 answers
 * are retried with exponential backoff and jitter (honouring Retry-After); one deadline bounds all of it, so a
 * slow or dripping server cannot extend it.
 * <p>
 * Uses the core HTTP client rather than the Web Client because only the core client can abort a response in
 * the middle of its body (the Web Client drains it to the end).
 */
final class HttpFetcher {
  /** The response headers a result keeps: what a client needs to interpret or revalidate the body. */
  static final List<String> KEPT_HEADERS = List.of("content-type", "content-length", "content-language",
      "etag", "last-modified", "cache-control", "expires", "retry-after");
  static final int MAX_HEADER_VALUE = 1024;
  private static final Set<Integer> REDIRECTS = Set.of(301, 302, 303, 307, 308);
  private static final Set<Integer> RETRY_STATUSES = Set.of(429, 502, 503, 504);

  /**
   * How one fetch may behave; robots.txt itself is fetched without robots and with a truncating size limit.
   * {@code redirectsBefore}: the redirects followed before this fetch began, on another fetch node (see
   * {@link Elsewhere}), which count against {@code fetch.maxRedirects}.
   */
  record Options(long maxBodyBytes, boolean truncateBody, boolean obeyRobots, int perHost, int maxRetries,
                 String ifNoneMatch, String ifModifiedSince, int redirectsBefore) {

    Options conditional(String etag, String lastModified) {
      return new Options(maxBodyBytes, truncateBody, obeyRobots, perHost, maxRetries, etag, lastModified, redirectsBefore);
    }

    Options afterRedirects(int redirects) {
      return new Options(maxBodyBytes, truncateBody, obeyRobots, perHost, maxRetries, ifNoneMatch, ifModifiedSince,
          redirects);
    }
  }

  /**
   * Cluster mode: a redirect to an origin another fetch node owns is followed there, since only the holder of an
   * origin's lease may send it a request. Returns that node's result for {@code url} (having followed the rest of the
   * redirects), failed with {@link FetchOwners#OWNER_GONE} when that node is gone (then it is fetched here); or null
   * when this node owns {@code url}'s origin.
   */
  interface Elsewhere {
    Future<FetchResult> fetch(WebUrl url, int redirects, boolean obeyRobots, int perHost, long timeoutMs);
  }

  private final Vertx vertx;
  private final Context context;
  private final HttpClient client;
  private final FetchSettings settings;
  private final DestinationGuard guard;
  private final HostLimiter limiter;
  private final RobotsCache robots;
  private final String agentToken;
  private final Meters meters;
  private final Elsewhere elsewhere;

  HttpFetcher(Vertx vertx, Context context, HttpClient client, FetchSettings settings, DestinationGuard guard,
              HostLimiter limiter, RobotsCache robots, Meters meters) {
    this(vertx, context, client, settings, guard, limiter, robots, meters, null);
  }

  HttpFetcher(Vertx vertx, Context context, HttpClient client, FetchSettings settings, DestinationGuard guard,
              HostLimiter limiter, RobotsCache robots, Meters meters, Elsewhere elsewhere) {
    this.elsewhere = elsewhere;
    this.vertx = vertx;
    this.context = context;
    this.client = client;
    this.settings = settings;
    this.guard = guard;
    this.limiter = limiter;
    this.robots = robots;
    this.meters = meters;
    this.agentToken = RobotsRules.agentToken(settings.userAgent());
  }

  Options defaults(boolean obeyRobots, Integer maxConcurrency) {
    int perHost = maxConcurrency == null ? settings.perHostConcurrency() : Math.min(maxConcurrency, settings.perHostConcurrency());
    return new Options(settings.maxBodyBytes(), false, obeyRobots, perHost, settings.retry().max(), null, null, 0);
  }

  Future<FetchResult> fetch(WebUrl url, Options options) {
    return new Fetch(url, options).run();
  }

  /** A hop's answer: a redirect to follow, or the final response. */
  private record Hop(WebUrl location, FetchResult result) {}

  /** The state of one fetch across its attempts and redirect hops. */
  private final class Fetch {
    private final WebUrl original;
    private final Options options;
    private final Instant startedAt = Instant.now().truncatedTo(ChronoUnit.MICROS); // what Postgres keeps
    private final long startNanos = System.nanoTime();
    private final Promise<FetchResult> promise = Promise.promise();
    private HttpClientRequest current;
    private String waitingOrigin;
    private Future<HostLimiter.Permit> waitingPermit;
    private int retries;
    private long dnsMs;
    private long ttfbMs;
    /** The request head the last hop sent and the address it went to: the WARC export's request record. */
    private String requestHead;
    private String peerIp;

    Fetch(WebUrl original, Options options) {
      this.original = original;
      this.options = options;
    }

    Future<FetchResult> run() {
      long timer = vertx.setTimer(settings.timeoutMs(), t -> abort(waitingForLease()
          // Cluster mode: it waited for its origin's lease, which another node holds; the upstream was not asked.
          ? Failure.UNAVAILABLE.exception("no lease for " + waitingOrigin + " within " + settings.timeoutMs()
              + " ms (fetch.timeoutMs): another fetch node holds it; retry later")
          : Failure.UPSTREAM_TIMEOUT.exception("no complete response from " + original.host() + " within "
              + settings.timeoutMs() + " ms (fetch.timeoutMs)")));
      attempt();
      return promise.future().eventually(() -> {
        vertx.cancelTimer(timer);
        return Future.succeededFuture();
      });
    }

    /** Whether this fetch waits for a slot its node cannot grant without its origin's lease (cluster mode). */
    private boolean waitingForLease() {
      boolean waiting = waitingPermit != null && limiter.leaseMissing(waitingOrigin);
      if (waiting) {
        meters.originLeaseRefusals(1);
      }
      return waiting;
    }

    private long elapsedMs() {
      return (System.nanoTime() - startNanos) / 1_000_000;
    }

    private void abort(ReplyException failure) {
      if (promise.tryFail(failure)) {
        if (current != null) {
          current.reset();
        }
        if (waitingPermit != null) {
          limiter.cancel(waitingOrigin, waitingPermit);
        }
      }
    }

    private void attempt() {
      follow(original, options.redirectsBefore(), new HashSet<>()).onComplete(ar -> {
        if (promise.future().isComplete()) {
          return;
        }
        if (ar.succeeded()) {
          promise.tryComplete(ar.result());
        } else if (ar.cause() instanceof RetryLater later) {
          retryAfter(later.delayMs, Failure.UPSTREAM.exception(original.host() + " kept asking to retry later"));
        } else if (UpstreamErrors.retryable(ar.cause()) && retries < options.maxRetries()) {
          retryAfter(backoff(retries), ar.cause());
        } else {
          promise.tryFail(ar.cause());
        }
      });
    }

    /** Waits {@code delayMs} and tries again, unless that would pass the deadline: then {@code err} is final. */
    private void retryAfter(long delayMs, Throwable err) {
      if (elapsedMs() + delayMs >= settings.timeoutMs()) {
        promise.tryFail(err);
        return;
      }
      retries++;
      vertx.setTimer(Math.max(1, delayMs), t -> {
        if (!promise.future().isComplete()) {
          attempt();
        }
      });
    }

    private long backoff(int retry) {
      return Backoff.delayMs(retry, settings.retry().baseDelayMs(), settings.retry().maxDelayMs());
    }

    private Future<FetchResult> follow(WebUrl url, int redirects, Set<String> visited) {
      visited.add(url.key());
      return hop(url).compose(h -> {
        if (h.result() != null) {
          return Future.succeededFuture(h.result());
        }
        if (redirects >= settings.maxRedirects()) {
          return Future.failedFuture(Failure.TOO_MANY_REDIRECTS.exception("more than " + settings.maxRedirects()
              + " redirects starting at " + original + " (fetch.maxRedirects)"));
        }
        if (visited.contains(h.location().key())) {
          return Future.failedFuture(Failure.REDIRECT_LOOP.exception(url + " redirects back to " + h.location()));
        }
        Future<FetchResult> there = elsewhere == null ? null : elsewhere.fetch(h.location(), redirects + 1,
            options.obeyRobots(), options.perHost(), Math.max(1, settings.timeoutMs() - elapsedMs()));
        if (there == null) {
          return follow(h.location(), redirects + 1, visited);
        }
        return there.map(this::asOurs).recover(err -> err == FetchOwners.OWNER_GONE
            ? follow(h.location(), redirects + 1, visited) : Future.failedFuture(err));
      });
    }

    /** The result another fetch node had for a redirect's target, as the result of this fetch of the original URL. */
    private FetchResult asOurs(FetchResult there) {
      JsonObject timing = there.timing() == null ? new JsonObject() : there.timing().copy();
      timing.put("totalMs", elapsedMs());
      return new FetchResult(UUID.randomUUID().toString(), original.toString(), there.finalUrl(), there.status(),
          there.contentType(), there.headers(), there.bytes(), there.sha256(), elapsedMs(), startedAt,
          there.fromCache(), timing, retries + there.retries(), there.body(), there.exchange());
    }

    /** One request: guard, robots, a politeness slot, then the exchange; the slot is freed whatever happens. */
    private Future<Hop> hop(WebUrl url) {
      long resolving = System.nanoTime();
      return guard.check(url)
          .compose(server -> {
            dnsMs = (System.nanoTime() - resolving) / 1_000_000;
            return allowedByRobots(url).map(delay -> new Object[] {server, delay});
          })
          .compose(sd -> {
            // Cluster mode: completed if the origin's lease is lost while the slot is held (see OriginLeases).
            Promise<Void> revoked = limiter.gated() ? Promise.promise() : null;
            return slot(url, (Long) sd[1], revoked == null ? null : revoked::tryComplete)
                .compose(permit -> safely(() -> exchange(url, (SocketAddress) sd[0], permit,
                        revoked == null ? null : revoked.future()))
                    .eventually(() -> {
                      permit.release(); // on every path: the slot is the origin's, not ours to keep
                      return Future.succeededFuture();
                    }));
          });
    }

    /** The Crawl-delay to keep for this origin (0 when none), or a 403 when robots.txt disallows the URL. */
    private Future<Long> allowedByRobots(WebUrl url) {
      if (!options.obeyRobots() || "/robots.txt".equals(url.uri().getRawPath())) {
        return Future.succeededFuture(settings.perHostDelayMs());
      }
      return robots.rules(url, context, robotsUrl -> fetch(robotsUrl, new Options(RobotsRules.MAX_BYTES, true, false,
              options.perHost(), 0, null, null, 0)), agentToken)
          .compose(rules -> {
            if (rules.networkFailure() != null) {
              return Future.failedFuture(rules.networkFailure());
            }
            if (!rules.isAllowed(url.toString())) {
              meters.robotsBlocked(rules.reachable() ? Meters.ROBOTS_DISALLOWED : Meters.ROBOTS_UNREACHABLE);
              return Future.failedFuture(Failure.ROBOTS_DISALLOWED.exception("robots.txt of " + url.host()
                  + (rules.reachable() ? " disallows " + url + " for " + agentToken
                  : " could not be fetched, so every URL of it is disallowed for now")));
            }
            long crawlDelay = Math.min(Math.max(rules.crawlDelayMs(), 0), settings.robots().maxCrawlDelayMs());
            return Future.succeededFuture(Math.max(settings.perHostDelayMs(), crawlDelay));
          });
    }

    private Future<HostLimiter.Permit> slot(WebUrl url, long delayMs, Runnable onRevoke) {
      if (promise.future().isComplete()) {
        return Future.failedFuture(promise.future().cause()); // expired while resolving or reading robots.txt
      }
      String origin = url.origin();
      Future<HostLimiter.Permit> pending = limiter.acquire(origin, options.perHost(), delayMs, context, onRevoke);
      if (!pending.isComplete()) {
        waitingOrigin = origin;
        waitingPermit = pending;
      }
      return pending.onComplete(ar -> waitingPermit = null);
    }

    private Future<Hop> exchange(WebUrl url, SocketAddress server, HostLimiter.Permit permit, Future<Void> revoked) {
      Promise<Hop> hop = Promise.promise();
      if (promise.future().isComplete()) {
        hop.fail(promise.future().cause());
        return hop.future();
      }
      // The origin's lease lost while this hop runs: its request is closed at once, before another node may start one.
      if (revoked != null) {
        revoked.onSuccess(v -> {
          hop.tryFail(leaseLost(url));
          HttpClientRequest req = current;
          if (req != null) {
            req.reset();
          }
        });
      }
      RequestOptions request = guardedRequest(HttpMethod.GET, url, server, settings)
          // Until the response head arrives the first-byte timer below rules (the client's own idle timeout ends
          // there); then an IdleWatch allows idleTimeoutMs between bytes of the body.
          .setIdleTimeout(Math.max(settings.idleTimeoutMs(), settings.firstByteTimeoutMs() + 1000L))
          .putHeader(HttpHeaders.ACCEPT, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
      // Validators belong to the stored copy of the original URL: never sent to a redirect target.
      if (url == original && options.ifNoneMatch() != null) {
        request.putHeader(HttpHeaders.IF_NONE_MATCH, options.ifNoneMatch());
      }
      if (url == original && options.ifModifiedSince() != null) {
        request.putHeader(HttpHeaders.IF_MODIFIED_SINCE, options.ifModifiedSince());
      }
      // What the client would add itself (brotli4j is on the class path), added here so that the head kept for the
      // WARC export is what was sent.
      request.putHeader(HttpHeaders.ACCEPT_ENCODING, HttpHeaders.DEFLATE_GZIP_BR);
      requestHead = ExchangeHeads.request(url, request.getHeaders());
      peerIp = server.hostAddress();
      long[] firstByteTimer = {-1};
      client.request(request)
          .compose(req -> {
            if (hop.future().isComplete()) {
              req.reset(); // the deadline passed while connecting: nothing more goes to this origin
              return Future.failedFuture(hop.future().cause());
            }
            current = req;
            if (!permit.valid()) {
              // The lease ran out between the slot and now (a pause): nothing is sent.
              req.reset();
              hop.tryFail(leaseLost(url));
              return Future.failedFuture(hop.future().cause());
            }
            long sent = System.nanoTime();
            firstByteTimer[0] = vertx.setTimer(settings.firstByteTimeoutMs(), t -> {
              hop.tryFail(Failure.IDLE_TIMEOUT.exception(url.host() + " sent no response within "
                  + settings.firstByteTimeoutMs() + " ms (fetch.firstByteTimeoutMs)"));
              req.reset();
            });
            return req.send().onSuccess(resp -> ttfbMs = (System.nanoTime() - sent) / 1_000_000);
          })
          .onComplete(ar -> vertx.cancelTimer(firstByteTimer[0]))
          .onSuccess(resp -> {
            try {
              respond(url, resp, hop);
            } catch (RuntimeException e) {
              // Whatever an upstream sends must end this hop with an answer, never leave it hanging.
              discard(resp);
              hop.tryFail(UpstreamErrors.classify(url, e, settings));
            }
          })
          .onFailure(err -> hop.tryFail(UpstreamErrors.classify(url, err, settings)));
      // The fetch's deadline ends the hop too, so its slot is freed.
      promise.future().onFailure(hop::tryFail);
      return hop.future();
    }

    private void respond(WebUrl url, HttpClientResponse resp, Promise<Hop> hop) {
      if (promise.future().isComplete()) {
        discard(resp); // the deadline passed while we were connecting
        hop.tryFail(promise.future().cause());
        return;
      }
      int status = resp.statusCode();
      if (REDIRECTS.contains(status) && resp.getHeader(HttpHeaders.LOCATION) != null) {
        // The body of a redirect is not needed: closing the connection is cheaper than reading an unbounded body.
        discard(resp);
        try {
          hop.tryComplete(new Hop(url.resolve("redirect Location", resp.getHeader(HttpHeaders.LOCATION)), null));
        } catch (ReplyException e) {
          hop.tryFail(Failure.UPSTREAM.exception(url + " redirected to an unusable location: " + e.getMessage()));
        }
        return;
      }
      if (RETRY_STATUSES.contains(status) && retries < options.maxRetries()) {
        long delay = retryDelay(resp.getHeader(HttpHeaders.RETRY_AFTER));
        if (delay >= 0 && elapsedMs() + delay < settings.timeoutMs()) {
          discard(resp);
          hop.tryFail(new RetryLater(delay));
          return;
        }
      }
      readBody(url, resp, hop);
    }

    /** Retry-After in seconds or as a date, capped; -1 when it asks for longer than we are willing to wait. */
    private long retryDelay(String retryAfter) {
      long asked = RetryAfter.millis(retryAfter, System.currentTimeMillis());
      if (asked < 0) {
        return backoff(retries);
      }
      return asked > settings.retry().maxDelayMs() ? -1 : asked;
    }

    private void readBody(WebUrl url, HttpClientResponse resp, Promise<Hop> hop) {
      resp.exceptionHandler(err -> hop.tryFail(UpstreamErrors.classify(url, err, settings)));
      long max = options.maxBodyBytes();
      long declaredLength = parseLength(resp.getHeader(HttpHeaders.CONTENT_LENGTH));
      // A declared length over the limit is refused up front; a lying or missing one is caught while streaming.
      if (declaredLength > max && !options.truncateBody()) {
        discard(resp);
        hop.tryFail(tooLarge(url, declaredLength));
        return;
      }
      BodyAccumulator body = new BodyAccumulator(declaredLength > 0 ? (int) Math.min(declaredLength, max) : 16 * 1024);
      IdleWatch idle = new IdleWatch(vertx, settings.idleTimeoutMs(), () -> {
        discard(resp);
        hop.tryFail(UpstreamErrors.classify(url, new TimeoutException("the body stalled"), settings));
      });
      hop.future().onComplete(ar -> idle.stop());
      resp.handler(chunk -> {
        idle.dataReceived();
        if (body.size() + chunk.length() <= max) {
          body.append(chunk);
        } else if (options.truncateBody()) {
          body.append(chunk.getBuffer(0, (int) (max - body.size())));
          discard(resp);
          hop.tryComplete(new Hop(null, result(url, resp, body)));
        } else {
          discard(resp);
          hop.tryFail(tooLarge(url, body.size() + chunk.length()));
        }
      });
      resp.endHandler(v -> hop.tryComplete(new Hop(null, result(url, resp, body))));
    }

    private ReplyException leaseLost(WebUrl url) {
      return Failure.UNAVAILABLE.exception("this fetch node lost the lease of " + url.origin() + " before the request "
          + "to it was over (PostgreSQL did not answer in time, or the node was paused), so it closed it; retry later");
    }

    private ReplyException tooLarge(WebUrl url, long seen) {
      return Failure.TOO_LARGE.exception("response body of " + url + " exceeds the limit of "
          + options.maxBodyBytes() + " bytes (fetch.maxBodyBytes); at least " + seen + " bytes were sent");
    }

    private FetchResult result(WebUrl finalUrl, HttpClientResponse resp, BodyAccumulator body) {
      JsonObject headers = new JsonObject();
      for (String name : KEPT_HEADERS) {
        String value = capped(resp.getHeader(name));
        if (value != null) {
          headers.put(name, value);
        }
      }
      long totalMs = elapsedMs();
      JsonObject timing = new JsonObject().put("dnsMs", dnsMs).put("ttfbMs", ttfbMs).put("totalMs", totalMs);
      var bytes = body.buffer();
      String responseHead = ExchangeHeads.response(resp, bytes.length());
      HttpExchange exchange = requestHead == null || responseHead == null ? null
          : new HttpExchange(requestHead, responseHead, peerIp);
      return new FetchResult(UUID.randomUUID().toString(), original.toString(), finalUrl.toString(),
          resp.statusCode(), capped(resp.getHeader(HttpHeaders.CONTENT_TYPE)), headers, bytes.length(), body.sha256(),
          totalMs, startedAt, false, timing, retries, bytes,
          exchange);
    }
  }

  /**
   * A request for {@code url} over a connection to {@code server}, the address {@link DestinationGuard#check}
   * answered for it, and no other, so a second DNS answer cannot redirect it (rebinding); the Host header and
   * the TLS name stay the URL's. Redirects are never followed by the client: a caller that follows them checks
   * each hop itself.
   */
  static RequestOptions guardedRequest(HttpMethod method, WebUrl url, SocketAddress server, FetchSettings settings) {
    return new RequestOptions()
        .setMethod(method)
        .setAbsoluteURI(url.uri().toString())
        .setServer(server)
        .setFollowRedirects(false)
        .setConnectTimeout(settings.connectTimeoutMs())
        .putHeader(HttpHeaders.HOST, url.hostAndPort()) // the client's own value, first, as it goes out
        .putHeader(HttpHeaders.USER_AGENT, settings.userAgent());
  }

  /** Runs {@code step}; an exception it throws becomes a failed future, so callers' cleanup always runs. */
  private static <T> Future<T> safely(java.util.function.Supplier<Future<T>> step) {
    try {
      return step.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /** Not a failure of the fetch: the upstream asked for another attempt after {@code delayMs}. */
  private static final class RetryLater extends RuntimeException {
    final long delayMs;

    RetryLater(long delayMs) {
      super("retry after " + delayMs + " ms", null, false, false);
      this.delayMs = delayMs;
    }
  }

  /** Header values are the upstream's to choose: keep at most {@link #MAX_HEADER_VALUE} characters of each. */
  private static String capped(String value) {
    return value == null || value.length() <= MAX_HEADER_VALUE ? value : value.substring(0, MAX_HEADER_VALUE);
  }

  /** Abandons a response we do not want: the connection is closed, and the reset it reports is expected. */
  static void discard(HttpClientResponse resp) {
    resp.exceptionHandler(ignored -> { });
    resp.handler(null);
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
