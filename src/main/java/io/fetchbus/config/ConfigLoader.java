package io.fetchbus.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Builds the effective configuration. Precedence, lowest first: the defaults built into the jar (a copy of
 * {@code conf/config.json}), the file {@code conf/config.json} (or the path in {@code FETCHBUS_CONFIG}),
 * {@code FETCHBUS_*} environment variables, then the JSON given at deployment ({@code -conf} or a test).
 */
public final class ConfigLoader {
  /** The copy of {@code conf/config.json} that the build puts on the classpath. */
  public static final String DEFAULTS_RESOURCE = "fetchbus/config.json";
  public static final String DEFAULT_FILE = "conf/config.json";

  private ConfigLoader() {}

  public static Future<JsonObject> load(Vertx vertx, JsonObject deployment, Map<String, String> env) {
    String file = env.getOrDefault("FETCHBUS_CONFIG", DEFAULT_FILE);
    ConfigRetrieverOptions options = new ConfigRetrieverOptions().setScanPeriod(0)
        .addStore(new ConfigStoreOptions().setType("file").setConfig(new JsonObject().put("path", DEFAULTS_RESOURCE)))
        .addStore(new ConfigStoreOptions().setType("file").setOptional(true).setConfig(new JsonObject().put("path", file)));
    ConfigRetriever retriever = ConfigRetriever.create(vertx, options);
    return retriever.getConfig()
        .map(json -> EnvOverrides.apply(json, env).mergeIn(deployment == null ? new JsonObject() : deployment, true))
        .eventually(retriever::close);
  }

  /**
   * The same configuration, read synchronously: for the launcher's main thread, before Vert.x exists, to decide
   * how Vert.x itself is built ({@code metrics.enabled}). Never call it on an event loop.
   */
  public static JsonObject loadNow(JsonObject deployment, Map<String, String> env) {
    try (InputStream in = ConfigLoader.class.getClassLoader().getResourceAsStream(DEFAULTS_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(DEFAULTS_RESOURCE + " is missing from the classpath");
      }
      JsonObject json = new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      Path file = Path.of(env.getOrDefault("FETCHBUS_CONFIG", DEFAULT_FILE));
      if (Files.isRegularFile(file)) {
        json.mergeIn(new JsonObject(Files.readString(file)), true);
      }
      return EnvOverrides.apply(json, env).mergeIn(deployment == null ? new JsonObject() : deployment, true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
