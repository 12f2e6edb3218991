package io.fetchbus.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SecretsTest {

  @Test
  @DisplayName("the logged configuration masks API keys, the metrics key and database passwords, and nothing else")
  void masks() {
    JsonObject cfg = new JsonObject()
        .put("pg", new JsonObject().put("url", "postgresql://fetchbus:pg-s3cret@127.0.0.1:5432/fetchbus"))
        .put("auth", new JsonObject().put("keys", new JsonArray().add("ci:api-s3cret")).put("keysFile", "/etc/keys"))
        .put("metrics", new JsonObject().put("enabled", true).put("key", "scrape-s3cret"))
        .put("upstream", new JsonObject().put("upperKey", "upper-s3cret"))
        .put("http", new JsonObject().put("port", 8080))
        .put("limits", new JsonObject().put("maxActiveJobsPerKey", 4))
        .put("watches", new JsonObject().put("maxPerKey", 100));
    JsonObject masked = Secrets.mask(cfg);
    assertThat(masked.encode()).doesNotContain("pg-s3cret", "api-s3cret", "scrape-s3cret", "upper-s3cret");
    assertThat(masked.getJsonObject("metrics").getString("key")).isEqualTo("***");
    assertThat(masked.getJsonObject("metrics").getBoolean("enabled")).isTrue();
    assertThat(masked.getJsonObject("auth").getString("keys")).isEqualTo("***");
    assertThat(masked.getJsonObject("auth").getString("keysFile")).isEqualTo("/etc/keys");
    assertThat(masked.getJsonObject("pg").getString("url")).isEqualTo("postgresql://fetchbus:***@127.0.0.1:5432/fetchbus");
    assertThat(masked.getJsonObject("http").getInteger("port")).isEqualTo(8080);
    assertThat(masked.getJsonObject("limits").getInteger("maxActiveJobsPerKey")).as("a limit per key").isEqualTo(4);
    assertThat(masked.getJsonObject("watches").getInteger("maxPerKey")).isEqualTo(100);
  }

  @Test
  @DisplayName("a secret that is not set stays visible as not set")
  void unsetStaysVisible() {
    JsonObject masked = Secrets.mask(new JsonObject()
        .put("auth", new JsonObject().put("keys", new JsonArray()))
        .put("metrics", new JsonObject().put("key", "")));
    assertThat(masked.getJsonObject("auth").getJsonArray("keys")).isEmpty();
    assertThat(masked.getJsonObject("metrics").getString("key")).isEmpty();
  }
}
