package io.fetchbus.api.http;

import io.fetchbus.auth.ClientAddress;
import io.fetchbus.auth.FailedAuthThrottle;
import io.fetchbus.auth.Keys;
import io.fetchbus.bus.Failure;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import java.util.List;

/**
 * {@code Authorization: Bearer <key>} (or, on a WebSocket upgrade without it, the first subprotocol) against the
 * configured {@link Keys}, each with a name for logs; the key
 * itself is never logged. Wrong keys count against the client's address ({@link FailedAuthThrottle}); an address
 * over its budget gets a 429 before its key is looked at.
 */
public final class ApiKeys implements Handler<RoutingContext> {
  /** Where the name of the key a request used is kept in its routing context. */
  public static final String KEY_NAME = "fetchbus.keyName";

  private final Keys keys;
  private final FailedAuthThrottle throttle;
  /** The 401's detail when the request has no key at all: what to send. */
  private final String missing;

  private ApiKeys(Keys keys, FailedAuthThrottle throttle, String missing) {
    this.keys = keys;
    this.throttle = throttle;
    this.missing = missing;
  }

  /** The API keys, for {@code /v1}. */
  public static ApiKeys of(Keys keys, FailedAuthThrottle throttle) {
    return new ApiKeys(keys, throttle, "this API needs an API key: send Authorization: Bearer <key>");
  }

  /** {@code metrics.key}: the one key of {@code /metrics} when it is set (an API key does not open it). */
  public static ApiKeys metricsKey(String key, FailedAuthThrottle throttle) {
    return new ApiKeys(Keys.of(List.of("metrics:" + key)), throttle,
        "/metrics needs metrics.key: send Authorization: Bearer <metrics.key>");
  }

  /** The same keys guarding {@code /metrics}, which must not be open when the API is not. */
  public ApiKeys forMetrics() {
    return new ApiKeys(keys, throttle, "/metrics needs an API key, since API keys are configured: send Authorization: "
        + "Bearer <key> (or set metrics.key for a key of its own, or metrics.open=true to serve it open)");
  }

  public boolean isEmpty() {
    return keys.isEmpty();
  }

  @Override
  public void handle(RoutingContext ctx) {
    String client = ClientAddress.of(ctx.request().remoteAddress());
    long waitMs = throttle.blockedForMs(client);
    if (waitMs > 0) {
      long seconds = (waitMs + 999) / 1000;
      ctx.response().putHeader("Retry-After", String.valueOf(seconds));
      ctx.fail(Failure.TOO_MANY_AUTH_FAILURES.exception(throttle.maxFailures() + " wrong API keys came from this "
          + "address within " + throttle.windowSeconds() + " s (auth.maxFailures, auth.failureWindowSeconds): its "
          + "requests are refused for " + seconds + " s more"));
      return;
    }
    String header = ctx.request().getHeader("Authorization");
    if (header == null && "websocket".equalsIgnoreCase(ctx.request().getHeader("Upgrade"))) {
      header = subprotocolKey(ctx.request().getHeader("Sec-WebSocket-Protocol"));
    }
    if (Keys.bearer(header) == null) {
      refuse(ctx, missing); // no key is not a guess: not counted
      return;
    }
    String matched = keys.match(header);
    if (matched == null) {
      throttle.failed(client);
      refuse(ctx, "the API key is not valid");
      return;
    }
    ctx.put(KEY_NAME, matched);
    ctx.next();
  }

  /**
   * A WebSocket client cannot set headers in a browser, so Firecrawl's SDKs send the key as the (first) subprotocol
   * of the upgrade; it is taken as {@code Bearer <key>}.
   */
  private static String subprotocolKey(String protocols) {
    if (protocols == null || protocols.isBlank()) {
      return null;
    }
    int comma = protocols.indexOf(',');
    return "Bearer " + (comma < 0 ? protocols : protocols.substring(0, comma)).strip();
  }

  private static void refuse(RoutingContext ctx, String detail) {
    ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"fetchbus\"");
    ctx.fail(new HttpException(401, detail));
  }
}
