package io.fetchbus.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class ConfigLoaderTest {

  @Test
  @DisplayName("conf/config.json is the complete set of defaults, and the HTTP server binds to loopback by default")
  void defaultsComplete(Vertx vertx, VertxTestContext ctx) throws Exception {
    JsonObject file = new JsonObject(Files.readString(Path.of("conf/config.json")));
    ConfigLoader.load(vertx, new JsonObject(), Map.of("FETCHBUS_CONFIG", "does/not/exist.json"))
        .onComplete(ctx.succeeding(cfg -> ctx.verify(() -> {
          assertThat(cfg).isEqualTo(file);
          assertThat(cfg.getJsonObject("http").getString("host")).isEqualTo("127.0.0.1");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("precedence: defaults < config file < FETCHBUS_* variables < deployment config")
  void precedence(Vertx vertx, VertxTestContext ctx) throws Exception {
    Path file = Files.createTempFile("fetchbus", ".json");
    Files.writeString(file, "{\"http\": {\"port\": 1111, \"host\": \"0.0.0.0\"}, \"cache\": {\"ttlSeconds\": 5}}");
    Map<String, String> env = Map.of("FETCHBUS_CONFIG", file.toString(), "FETCHBUS_HTTP_PORT", "2222",
        "FETCHBUS_CACHE_TTL_SECONDS", "6");
    JsonObject deployment = new JsonObject().put("cache", new JsonObject().put("ttlSeconds", 7));
    ConfigLoader.load(vertx, deployment, env).onComplete(ctx.succeeding(cfg -> ctx.verify(() -> {
      assertThat(cfg.getJsonObject("http").getString("host")).isEqualTo("0.0.0.0");
      assertThat(cfg.getJsonObject("http").getInteger("port")).isEqualTo(2222);
      assertThat(cfg.getJsonObject("cache").getInteger("ttlSeconds")).isEqualTo(7);
      assertThat(cfg.getJsonObject("fetch").getInteger("maxRedirects")).isEqualTo(5);
      // What the launcher reads before Vert.x exists (to build it with or without metrics) is the same.
      assertThat(ConfigLoader.loadNow(deployment, env)).isEqualTo(cfg);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("metrics.enabled, metrics.key and metrics.open have defaults, and FETCHBUS_METRICS_* variables override them")
  void metricsSettings() {
    JsonObject defaults = ConfigLoader.loadNow(new JsonObject(), Map.of("FETCHBUS_CONFIG", "does/not/exist.json"));
    JsonObject overridden = ConfigLoader.loadNow(new JsonObject(), Map.of("FETCHBUS_CONFIG", "does/not/exist.json",
        "FETCHBUS_METRICS_ENABLED", "false", "FETCHBUS_METRICS_KEY", "scrape-s3cret", "FETCHBUS_METRICS_OPEN", "true"));
    assertThat(defaults.getJsonObject("metrics"))
        .isEqualTo(new JsonObject().put("enabled", true).put("key", "").put("open", false));
    assertThat(overridden.getJsonObject("metrics"))
        .isEqualTo(new JsonObject().put("enabled", false).put("key", "scrape-s3cret").put("open", true));
  }
}
