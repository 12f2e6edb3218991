package io.fetchbus.ops;

import io.fetchbus.bus.Bus;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.metrics.MetricsOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.metrics.HttpServerMetrics;
import io.vertx.core.spi.metrics.MetricsProvider;
import io.vertx.core.spi.metrics.VertxMetrics;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.backends.BackendRegistries;
import io.vertx.micrometer.impl.MicrometerMetrics;
import io.vertx.micrometer.impl.VertxMetricsImpl;
import io.vertx.micrometer.impl.meters.LongGauges;
import java.util.EnumSet;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Vert.x Micrometer metrics with a Prometheus registry. Metrics are a property of the Vert.x instance, so they are
 * switched on where it is built: {@link #vertxBuilder} is the one place that does it, for the launcher
 * ({@code io.fetchbus.Fetchbus}) and for the tests alike.
 * <p>
 * Each Vert.x instance gets its own registry, found through the instance ({@link #registry}) rather than a global
 * name, so that several instances in one JVM (the tests run several) never share or close each other's meters.
 */
public final class MetricsSetup {
  /** The {@code pool_name} of the HTTP client's connection pools, all upstream addresses together. */
  public static final String UPSTREAM_POOLS = "upstream";
  private static final AtomicLong INSTANCES = new AtomicLong();

  private MetricsSetup() {}

  /**
   * A builder for a Vert.x instance with {@code options} and, when {@code enabled}, metrics: HTTP server (per
   * route template), HTTP client, event bus, pools (workers, PostgreSQL) and the JVM, in a fresh Prometheus
   * registry. Any metrics options already in {@code options} are replaced.
   */
  public static VertxBuilder vertxBuilder(VertxOptions options, boolean enabled) {
    if (!enabled) {
      return Vertx.builder().with(options.setMetricsOptions(new MetricsOptions().setEnabled(false)));
    }
    PrometheusMeterRegistry registry = newRegistry();
    return Vertx.builder().with(options.setMetricsOptions(micrometerOptions())).withMetrics(new Factory(registry));
  }

  /** A fresh registry with the filters that keep Fetchbus's series few and named as documented. */
  static PrometheusMeterRegistry newRegistry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // Filters go on before Vert.x registers any meter, so they apply to all of them.
    registry.config()
        // Vert.x Micrometer reports every matched route of a request, joined by '>' ("/v1/*>/v1/pages/:id"): keep
        // the last, the route template that served it, as HttpServerMeters does (the reference it is tested against
        // is Vert.x Micrometer with this registry).
        .meterFilter(MeterFilter.replaceTagValues(Label.HTTP_ROUTE.toString(),
            route -> route.substring(route.lastIndexOf('>') + 1)))
        // A client may send any token as a method: it must not be able to create time series at will (the HTTP
        // server's are folded by HttpServerMeters before this; the HTTP client's series carry a method too).
        .meterFilter(MeterFilter.replaceTagValues(Label.HTTP_METHOD.toString(),
            method -> HttpServerMeters.METHODS.contains(method) ? method : "OTHER"))
        // Each fetch node has an address of its own (fetchbus.fetch.node.<id>), a new one at each restart: one series.
        .meterFilter(MeterFilter.replaceTagValues(Label.EB_ADDRESS.toString(),
            address -> address.startsWith(Bus.FETCH_NODE_PREFIX) ? Bus.FETCH_NODE_PREFIX + "*" : address))
        // The HTTP client keeps one pool per upstream address, named host:port: a crawler meets countless. They are
        // reported as one pool; Vert.x sums pools whose labels are equal.
        .meterFilter(new MeterFilter() {
          @Override
          public Meter.Id map(Meter.Id id) {
            return "http".equals(id.getTag(Label.POOL_TYPE.toString())) && id.getTag(Label.POOL_NAME.toString()) != null
                ? id.replaceTags(Tags.of(id.getTagsAsIterable()).and(Label.POOL_NAME.toString(), UPSTREAM_POOLS))
                : id;
          }
        });
    return registry;
  }

  /** Vert.x Micrometer's options for an instance: which metrics, with which labels, in a registry of its own. */
  static MicrometerMetricsOptions micrometerOptions() {
    return new MicrometerMetricsOptions()
        .setEnabled(true)
        .setRegistryName("fetchbus-" + INSTANCES.incrementAndGet())
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))
        .setJvmMetricsEnabled(true)
        // The defaults, plus the route template (never the path: /v1/pages/:id is one series, not one per page) and
        // the event-bus address (Fetchbus's addresses are a fixed set; Vert.x leaves reply addresses out).
        .setLabels(EnumSet.of(Label.HTTP_METHOD, Label.HTTP_CODE, Label.HTTP_ROUTE, Label.POOL_TYPE, Label.POOL_NAME,
            Label.EB_SIDE, Label.EB_ADDRESS));
  }

  /**
   * Vert.x Micrometer's metrics, but for the HTTP server's, which {@link HttpServerMeters} records with meters looked
   * up once rather than per request. VertxMetricsImpl and LongGauges are Vert.x Micrometer's impl classes: its
   * public API offers no way to replace one category's metrics.
   */
  private static final class Factory extends MicrometerMetricsFactory {
    private final MeterRegistry registry;

    Factory(MeterRegistry registry) {
      super(registry);
      this.registry = registry;
    }

    @Override
    public VertxMetrics metrics(VertxOptions vertxOptions) {
      MetricsOptions given = vertxOptions.getMetricsOptions();
      MicrometerMetricsOptions options = given instanceof MicrometerMetricsOptions m ? m
          : new MicrometerMetricsOptions(given.toJson());
      LongGauges gauges = new LongGauges(new ConcurrentHashMap<>()); // a registry per instance: gauges of its own
      VertxMetricsImpl metrics = new VertxMetricsImpl(options, BackendRegistries.setupBackend(options, registry),
          gauges) {
        @Override
        public HttpServerMetrics<?, ?, ?> createHttpServerMetrics(HttpServerOptions server, SocketAddress address) {
          return new HttpServerMeters(registry,
              options.getMetricsNaming().withBaseName(MetricsDomain.HTTP_SERVER.getPrefix()), gauges);
        }
      };
      metrics.init();
      return metrics;
    }
  }

  /** The Prometheus registry of {@code vertx}, if it was built with metrics. */
  public static Optional<PrometheusMeterRegistry> prometheus(Vertx vertx) {
    // MetricsService reaches the registry of an instance the same way: Vert.x exposes no public accessor for it
    // (BackendRegistries.getNow wants the registry's name, which the instance does not tell).
    if (vertx instanceof MetricsProvider provider && provider.getMetrics() instanceof MicrometerMetrics m
        && m.registry() instanceof PrometheusMeterRegistry prometheus) {
      return Optional.of(prometheus);
    }
    return Optional.empty();
  }

  /** The registry of {@code vertx}, or one that records nothing when it was built without metrics. */
  public static MeterRegistry registry(Vertx vertx) {
    return prometheus(vertx).<MeterRegistry>map(r -> r).orElseGet(CompositeMeterRegistry::new);
  }
}
