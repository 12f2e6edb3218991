package io.fetchbus.api;

import io.fetchbus.auth.Keys;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;

/**
 * {@code Authorization: Bearer <key>} against the configured {@link Keys}, each with a name for logs; the key
 * itself is never logged.
 */
final class ApiKeys implements Handler<RoutingContext> {
  /** Where the name of the key a request used is kept in its routing context. */
  static final String KEY_NAME = "fetchbus.keyName";

  private final Keys keys;

  private ApiKeys(Keys keys) {
    this.keys = keys;
  }

  static ApiKeys of(Keys keys) {
    return new ApiKeys(keys);
  }

  /** Parses {@code name:secret} entries; a malformed entry fails start-up (its secret is not repeated). */
  static ApiKeys of(Iterable<String> entries) {
    return new ApiKeys(Keys.of(entries));
  }

  boolean isEmpty() {
    return keys.isEmpty();
  }

  @Override
  public void handle(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    if (Keys.bearer(header) == null) {
      refuse(ctx, "this API needs an API key: send Authorization: Bearer <key>");
      return;
    }
    String matched = keys.match(header);
    if (matched == null) {
      refuse(ctx, "the API key is not valid");
      return;
    }
    ctx.put(KEY_NAME, matched);
    ctx.next();
  }

  private static void refuse(RoutingContext ctx, String detail) {
    ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"fetchbus\"");
    ctx.fail(new HttpException(401, detail));
  }
}
