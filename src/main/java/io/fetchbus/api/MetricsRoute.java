package io.fetchbus.api;

import io.fetchbus.api.http.ApiKeys;
import io.fetchbus.auth.FailedAuthThrottle;
import io.fetchbus.ops.MetricsSetup;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /metrics} in Prometheus format, outside {@code /v1} like the probes. {@code metrics.key} guards it
 * when set; else, when the API has keys, the API keys do: an API closed to strangers does not show them its
 * traffic, unless {@code metrics.open} says so. Without metrics it answers 404, as a path that is not served does.
 */
final class MetricsRoute {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsRoute.class);

  private MetricsRoute() {}

  static void mount(Vertx vertx, RouterBuilder builder, ApiSettings.Metrics metrics, ApiKeys apiKeys,
                    FailedAuthThrottle throttle) {
    Optional<PrometheusMeterRegistry> registry =
        metrics.enabled() ? MetricsSetup.prometheus(vertx) : Optional.empty();
    if (registry.isEmpty()) {
      if (metrics.enabled()) {
        LOG.warn("metrics.enabled is true, but this Vert.x instance was built without metrics: /metrics is not served");
      }
      ApiVerticle.on(builder, "metrics", ctx -> ctx.fail(404));
      return;
    }
    String key = metrics.key();
    if (!key.isBlank()) {
      ApiVerticle.on(builder, "metrics", ApiKeys.metricsKey(key, throttle));
    } else if (!apiKeys.isEmpty() && !metrics.open()) {
      ApiVerticle.on(builder, "metrics", apiKeys.forMetrics());
    }
    ApiVerticle.on(builder, "metrics", scrapes(vertx, registry.get()));
  }

  /**
   * Answers a scrape with the registry's text, written on a worker thread: a scrape walks every meter, CPU work that
   * grows with the meters (a few ms, far more in a cold JVM) and has no business on an event loop. Scrapes that
   * arrive while one is being written share it, so a flood of them makes one worker busy, not all of them.
   */
  private static Handler<RoutingContext> scrapes(Vertx vertx, PrometheusMeterRegistry registry) {
    Supplier<Future<String>> text = shared(() -> vertx.executeBlocking(registry::scrape, false));
    return ctx -> text.get().onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
      } else {
        ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8").end(ar.result());
      }
    });
  }

  /**
   * {@code start}'s future, shared by every call made until it ends; the first call after its end starts another.
   * Called on one event loop. The future is kept before its end is listened for: a worker can finish a scrape
   * before the listener is added, which then runs at once, so clearing it there and keeping it after would serve
   * that one scrape's text for ever.
   */
  static <T> Supplier<Future<T>> shared(Supplier<Future<T>> start) {
    var running = new Object() {
      Future<T> future;
    };
    return () -> {
      Future<T> current = running.future;
      if (current == null) {
        Future<T> started = start.get();
        running.future = started;
        started.onComplete(ar -> {
          if (running.future == started) {
            running.future = null;
          }
        });
        current = started;
      }
      return current;
    };
  }
}
