package io.fetchbus;

import io.fetchbus.config.Settings;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;

/**
 * How many event-loop threads a node runs: {@code vertx.eventLoops}, where 0 (the default) is one per CPU core.
 * Vert.x's own default is two per core, a margin for handlers that block a little; Fetchbus blocks no event loop
 * (blocking and CPU-heavy work go to worker threads), and on a loaded machine twice as many loops only take turns on
 * the same cores, handing each request between more threads. The API and fetch verticles run one instance per loop.
 * With 0, a number given with the launcher's {@code -options} ({@code eventLoopPoolSize}) is kept, unless it is
 * Vert.x's default, which cannot be told from no option.
 */
final class EventLoops {
  static final int MAX = 1024;

  private EventLoops() {}

  /** Sets the event loops of the Vert.x instance about to be built; {@code config} may be null (not readable yet). */
  static void apply(VertxOptions options, JsonObject config) {
    int configured = config == null || refusal(config) != null ? 0 : configured(config);
    if (configured > 0) {
      options.setEventLoopPoolSize(configured);
    } else if (options.getEventLoopPoolSize() == VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE) {
      // Vert.x's default is two per core as its own sensor counts them (-Dvertx.availableProcessors included).
      options.setEventLoopPoolSize(Math.max(1, VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE / 2));
    }
  }

  /** Why the setting cannot be used, or null: the node refuses to start rather than guess. */
  static String refusal(JsonObject config) {
    Object value = config.getJsonObject("vertx", new JsonObject()).getValue("eventLoops");
    boolean whole = value instanceof Integer || value instanceof Long;
    long n = whole ? ((Number) value).longValue() : -1;
    return whole && n >= 0 && n <= MAX ? null
        : "vertx.eventLoops must be 0 (one per CPU core) or a whole number of threads up to " + MAX + ", not " + value;
  }

  private static int configured(JsonObject config) {
    return Settings.number(config, "vertx", "eventLoops").intValue();
  }
}
