package io.fetchbus;

import io.fetchbus.api.ApiVerticle;
import io.fetchbus.crawl.CrawlVerticle;
import io.fetchbus.bus.Bus;
import io.fetchbus.config.ConfigLoader;
import io.fetchbus.ops.LogFormat;
import io.fetchbus.config.EnvOverrides;
import io.fetchbus.config.Secrets;
import io.fetchbus.extract.ExtractVerticle;
import io.fetchbus.fetch.FetchVerticle;
import io.fetchbus.store.EmbeddedDatabase;
import io.fetchbus.store.StoreVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.JsonArray;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the configuration and deploys the verticles in dependency order: store, extract, fetch, then the API,
 * so that the API never answers before what it calls exists. Starts the embedded PostgreSQL when no
 * {@code pg.url} is configured.
 */
public final class MainVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(MainVerticle.class);

  private final Map<String, String> env;
  private EmbeddedDatabase embedded;

  public MainVerticle() {
    this(System.getenv());
  }

  /** For tests: the environment to read {@code FETCHBUS_*} overrides from. */
  public MainVerticle(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public Future<?> start() {
    return ConfigLoader.load(vertx, config(), env)
        .compose(cfg -> {
          // The layout is chosen first, so that everything logged from here on has it.
          LogFormat.use(cfg.getJsonObject("log", new JsonObject()).getString("format", "text"));
          String refusal = refuseOpenExposure(cfg);
          return refusal == null ? Future.succeededFuture(cfg) : Future.failedFuture(new IllegalStateException(refusal));
        })
        .compose(this::withDatabase)
        .compose(cfg -> {
          LOG.info("effective configuration: {}", Secrets.mask(cfg).encode());
          EnvOverrides.unknown(cfg, env).forEach(name -> LOG.warn("{} names no setting and is ignored", name));
          return deploy(StoreVerticle.class.getName(), cfg, cfg.getJsonObject("store").getInteger("instances"), false)
              .compose(v -> deploy(ExtractVerticle.class.getName(), cfg, perCore(cfg, "extract"), true))
              .compose(v -> deploy(FetchVerticle.class.getName(), cfg, perEventLoop(cfg, "fetch"), false))
              // One crawl verticle per node is plenty: it only coordinates; the fetch and extract verticles do the work.
              .compose(v -> deploy(CrawlVerticle.class.getName(), cfg, cfg.getJsonObject("crawl").getInteger("instances", 1), false))
              .compose(v -> deploy(ApiVerticle.class.getName(), cfg, perEventLoop(cfg, "http"), false))
              .onSuccess(v -> {
                vertx.sharedData().getLocalMap(Bus.NODE_INFO).put(Bus.NODE_DEPLOYED, true);
                LOG.info("Fetchbus listening on http://{}:{}", cfg.getJsonObject("http").getString("host"),
                    vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_HTTP_PORT));
              });
        });
  }

  @Override
  public Future<?> stop() {
    vertx.sharedData().getLocalMap(Bus.NODE_INFO).remove(Bus.NODE_DEPLOYED);
    // Child verticles are undeployed before this runs, so nothing uses the database any more.
    if (embedded == null) {
      return Future.succeededFuture();
    }
    return vertx.executeBlocking(() -> {
      embedded.close();
      return null;
    });
  }

  /**
   * Safe by default: without API keys the service may only listen on a loopback address, unless open access is
   * chosen explicitly. Returns why it must not start, or null.
   */
  static String refuseOpenExposure(JsonObject cfg) {
    JsonObject auth = cfg.getJsonObject("auth", new JsonObject());
    String host = cfg.getJsonObject("http").getString("host", "127.0.0.1");
    boolean hasKeys = !auth.getJsonArray("keys", new JsonArray()).isEmpty() || !auth.getString("keysFile", "").isBlank();
    if (hasKeys || auth.getBoolean("disabled", false) || isLoopback(host)) {
      return null;
    }
    return "http.host is " + host + ", which is not a loopback address, and no API keys are configured. Either "
        + "configure keys (auth.keys, e.g. FETCHBUS_AUTH_KEYS=name:secret, or auth.keysFile), or set "
        + "auth.disabled=true (FETCHBUS_AUTH_DISABLED=true) to serve without access control on purpose.";
  }

  /** Loopback by name or literal address; never a DNS lookup. */
  private static boolean isLoopback(String host) {
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    if (!host.matches("[0-9a-fA-F:.\\[\\]]+")) {
      return false;
    }
    try {
      return InetAddress.getByName(host.replace("[", "").replace("]", "")).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /** With no {@code pg.url}, starts the embedded server (blocking work, so on a worker thread) and points at it. */
  private Future<JsonObject> withDatabase(JsonObject cfg) {
    JsonObject pg = cfg.getJsonObject("pg");
    if (!pg.getString("url", "").isBlank()) {
      return Future.succeededFuture(cfg);
    }
    JsonObject emb = pg.getJsonObject("embedded", new JsonObject());
    Path dir = Path.of(emb.getString("dataDir", "data/pg")).toAbsolutePath();
    LOG.info("pg.url is not set: starting the embedded PostgreSQL with its data in {}", dir);
    return vertx.executeBlocking(() -> EmbeddedDatabase.start(dir, emb.getInteger("port", 0)))
        .map(db -> {
          embedded = db;
          pg.put("url", db.url());
          return cfg;
        });
  }

  private Future<String> deploy(String verticle, JsonObject cfg, int instances, boolean worker) {
    DeploymentOptions options = new DeploymentOptions().setConfig(cfg).setInstances(instances);
    if (worker) {
      options.setThreadingModel(ThreadingModel.WORKER);
    }
    return vertx.deployVerticle(verticle, options)
        .onSuccess(id -> LOG.debug("deployed {} x{}", verticle, instances));
  }

  /** {@code instances: 0} means one per event-loop thread, the Vert.x way to use every core without locks. */
  private static int perEventLoop(JsonObject cfg, String part) {
    int n = cfg.getJsonObject(part).getInteger("instances", 0);
    return n > 0 ? n : VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE;
  }

  private static int perCore(JsonObject cfg, String part) {
    int n = cfg.getJsonObject(part).getInteger("instances", 0);
    return n > 0 ? n : Runtime.getRuntime().availableProcessors();
  }
}
