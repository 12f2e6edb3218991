package io.fetchbus;

import io.fetchbus.config.ConfigLoader;
import io.fetchbus.config.Settings;
import io.fetchbus.ops.LogFormat;
import io.fetchbus.ops.MetricsSetup;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.launcher.application.ExitCodes;
import io.vertx.launcher.application.HookContext;
import io.vertx.launcher.application.VertxApplication;
import io.vertx.launcher.application.VertxApplicationHooks;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fat jar's main class: the Vert.x launcher ({@link VertxApplication}, so {@code -conf}, {@code -options},
 * {@code -cluster} and the rest work as usual), deploying the manifest's {@code Main-Verticle}
 * ({@link MainVerticle}), with its hooks: Vert.x is built with metrics, which can only be switched on while the
 * instance is built, with {@code vertx.eventLoops} event-loop threads ({@link EventLoops}), and, clustered, with
 * the Hazelcast cluster manager of {@link ClusterMode}. Fetchbus's own option {@code --roles api,fetch,...}, which
 * the launcher does not know, is taken out of the arguments here and becomes the {@code roles} of the
 * configuration; {@code cluster.enabled} (file or environment) adds {@code -cluster}.
 * <p>
 * It extends the launcher because the launcher reads {@code Main-Verticle} from the manifest whose
 * {@code Main-Class} is its own class, and it is its own hooks (the launcher's convention).
 */
public final class Fetchbus extends VertxApplication implements VertxApplicationHooks {
  private static final Logger LOG = LoggerFactory.getLogger(Fetchbus.class);

  /** The launcher's own options that make Vert.x clustered. */
  private static final Set<String> CLUSTER_FLAGS = Set.of("-c", "-cluster", "--cluster");

  /** The JSON given with {@code -conf}, which takes precedence over the rest of the configuration. */
  private JsonObject deploymentConfig = new JsonObject();
  /** {@code --roles}, if given: it takes precedence over {@code -conf} and the rest. */
  private final JsonArray roles;
  private final boolean clustered;

  private Fetchbus(Arguments args) {
    super(args.launcher().toArray(String[]::new));
    this.roles = args.roles();
    this.clustered = args.clustered();
  }

  public static void main(String[] args) {
    Arguments arguments;
    try {
      arguments = Arguments.of(args, System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(ExitCodes.USAGE);
      return;
    }
    new Fetchbus(arguments).launch();
  }

  /**
   * The command line split into what the launcher parses and Fetchbus's own {@code --roles} ({@code --roles a,b},
   * {@code --roles=a,b}, or with one dash); {@code -cluster} added when {@code cluster.enabled} is set in the
   * configuration file or the environment (the {@code -conf} JSON is parsed later, by the launcher).
   */
  record Arguments(List<String> launcher, JsonArray roles, boolean clustered) {
    static Arguments of(String[] args, Map<String, String> env) {
      List<String> rest = new ArrayList<>();
      JsonArray roles = null;
      for (int i = 0; i < args.length; i++) {
        String arg = args[i];
        if (arg.equals("--roles") || arg.equals("-roles")) {
          if (i + 1 >= args.length) {
            throw new IllegalArgumentException(arg + " needs a value, e.g. " + arg + " api,store,crawl");
          }
          roles = Roles.parse(args[++i]);
        } else if (arg.startsWith("--roles=") || arg.startsWith("-roles=")) {
          roles = Roles.parse(arg.substring(arg.indexOf('=') + 1));
        } else {
          rest.add(arg);
        }
      }
      boolean clustered = rest.stream().anyMatch(CLUSTER_FLAGS::contains);
      if (!clustered && clusterEnabled(env)) {
        rest.add("-cluster");
        clustered = true;
      }
      return new Arguments(List.copyOf(rest), roles, clustered);
    }

    private static boolean clusterEnabled(Map<String, String> env) {
      try {
        return Settings.bool(ConfigLoader.loadNow(new JsonObject(), env), "cluster", "enabled");
      } catch (RuntimeException e) {
        return false; // MainVerticle reads the configuration again and reports what is wrong with it
      }
    }
  }

  @Override
  public JsonObject afterConfigParsed(JsonObject config) {
    JsonObject out = config == null ? new JsonObject() : config;
    if (roles != null) {
      out.put("roles", roles);
    }
    deploymentConfig = out;
    return out;
  }

  @Override
  public void afterVertxStopped(HookContext context) {
    LogFormat.flushAccessLog();
  }

  @Override
  public void afterFailureToStopVertx(HookContext context, Throwable t) {
    LogFormat.flushAccessLog();
  }

  @Override
  public VertxBuilder createVertxBuilder(VertxOptions options) {
    JsonObject config = configNow();
    EventLoops.apply(options, config);
    VertxBuilder builder = MetricsSetup.vertxBuilder(options, config == null
        || Settings.bool(config, "metrics", "enabled"));
    if (clustered) {
      // The launcher applies its -cluster-host and -cluster-port to these same options after this hook.
      ClusterMode.applyTo(options.getEventBusOptions(), config);
      builder.withClusterManager(ClusterMode.clusterManager(config));
    }
    return builder;
  }

  /**
   * The configuration, read here on the main thread because Vert.x does not exist yet, for what decides how
   * Vert.x is built ({@code metrics.enabled}, {@code cluster.*}); {@code log.format} is applied here too, so that
   * Vert.x's own start-up lines have the chosen layout. Null when it cannot be read.
   */
  private JsonObject configNow() {
    try {
      JsonObject config = ConfigLoader.loadNow(deploymentConfig, System.getenv());
      LogFormat.use(Settings.string(config, "log", "format"));
      return config;
    } catch (RuntimeException e) {
      // MainVerticle reads the configuration again and reports what is wrong with it; metrics stay on meanwhile.
      LOG.debug("configuration not readable before start ({}); metrics enabled", e.getMessage());
      return null;
    }
  }
}
