package io.fetchbus.api.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives every request an id (the client's {@code X-Request-Id} when it is sane, else a new one), returns it,
 * and logs one line per request when the response is done: method, route, status, duration, key name, id. Requests
 * {@link Admission} refused are left out: under overload they would be most of the log, and it counts them.
 */
public final class RequestLog implements Handler<RoutingContext> {
  public static final String REQUEST_ID = "fetchbus.requestId";
  private static final Logger ACCESS = LoggerFactory.getLogger("io.fetchbus.access");
  /** Client ids are echoed into headers and logs: short, and only characters that cannot forge either. */
  private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  @Override
  public void handle(RoutingContext ctx) {
    String given = ctx.request().getHeader("X-Request-Id");
    String id = given != null && SANE.matcher(given).matches() ? given : newId();
    ctx.put(REQUEST_ID, id);
    ctx.response().putHeader("X-Request-Id", id);
    long start = System.nanoTime();
    ctx.addEndHandler(done -> {
      if (Boolean.TRUE.equals(ctx.get(Admission.REFUSED))) {
        return;
      }
      String route = ctx.currentRoute() == null || ctx.currentRoute().getPath() == null
          ? ctx.request().path() : ctx.currentRoute().getPath();
      long ms = (System.nanoTime() - start) / 1_000_000;
      String key = ctx.get(ApiKeys.KEY_NAME, "-");
      int status = ctx.response().getStatusCode();
      // The same facts as key-value pairs: fields of their own in the JSON layout.
      ACCESS.atInfo().setMessage("{} {} {} {} ms key={} id={}")
          .addArgument(ctx.request().method()).addArgument(route).addArgument(status).addArgument(ms)
          .addArgument(key).addArgument(id)
          .addKeyValue("method", ctx.request().method().name()).addKeyValue("route", route)
          .addKeyValue("status", status).addKeyValue("durationMs", ms).addKeyValue("key", key)
          .addKeyValue("requestId", id)
          .log();
    });
    ctx.next();
  }

  /**
   * A random version 4 UUID. An id to find a request's lines by, not a secret: drawn from the thread's own
   * generator, not from {@code UUID.randomUUID()}'s SecureRandom, which every event loop would queue for.
   */
  public static String newId() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long high = (random.nextLong() & ~0xF000L) | 0x4000L;
    long low = (random.nextLong() & ~(3L << 62)) | (2L << 62);
    return new UUID(high, low).toString();
  }
}
