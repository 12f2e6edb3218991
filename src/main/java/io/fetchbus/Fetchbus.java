package io.fetchbus;

import io.fetchbus.config.ConfigLoader;
import io.fetchbus.ops.LogFormat;
import io.fetchbus.ops.Metrics;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.launcher.application.VertxApplication;
import io.vertx.launcher.application.VertxApplicationHooks;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fat jar's main class: the Vert.x launcher ({@link VertxApplication}, so {@code -conf}, {@code -options} and
 * the rest work as usual), deploying the manifest's {@code Main-Verticle} ({@link MainVerticle}), with one hook:
 * Vert.x is built with metrics, which can only be switched on while the instance is built.
 * <p>
 * It extends the launcher because the launcher reads {@code Main-Verticle} from the manifest whose
 * {@code Main-Class} is its own class, and it is its own hooks (the launcher's convention).
 */
public final class Fetchbus extends VertxApplication implements VertxApplicationHooks {
  private static final Logger LOG = LoggerFactory.getLogger(Fetchbus.class);

  /** The JSON given with {@code -conf}, which takes precedence over the rest of the configuration. */
  private JsonObject deploymentConfig = new JsonObject();

  private Fetchbus(String[] args) {
    super(args);
  }

  public static void main(String[] args) {
    new Fetchbus(args).launch();
  }

  @Override
  public JsonObject afterConfigParsed(JsonObject config) {
    deploymentConfig = config == null ? new JsonObject() : config;
    return config;
  }

  @Override
  public VertxBuilder createVertxBuilder(VertxOptions options) {
    return Metrics.vertxBuilder(options, metricsEnabled());
  }

  /**
   * {@code metrics.enabled} from the configuration, read here on the main thread because Vert.x does not exist
   * yet; {@code log.format} is applied here too, so that Vert.x's own start-up lines have the chosen layout.
   */
  private boolean metricsEnabled() {
    try {
      JsonObject config = ConfigLoader.loadNow(deploymentConfig, System.getenv());
      LogFormat.use(config.getJsonObject("log", new JsonObject()).getString("format", "text"));
      return config.getJsonObject("metrics", new JsonObject()).getBoolean("enabled", true);
    } catch (RuntimeException e) {
      // MainVerticle reads the configuration again and reports what is wrong with it; metrics stay on meanwhile.
      LOG.debug("configuration not readable before start ({}); metrics enabled", e.getMessage());
      return true;
    }
  }
}
