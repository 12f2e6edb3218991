package io.fetchbus.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EnvOverridesTest {
  private static final JsonObject DEFAULTS = new JsonObject()
      .put("http", new JsonObject().put("host", "127.0.0.1").put("port", 8080))
      .put("pg", new JsonObject().put("url", "").put("embedded", new JsonObject().put("dataDir", "data/pg")))
      .put("fetch", new JsonObject().put("maxBodyBytes", 10_485_760L).put("followRedirects", true))
      .put("auth", new JsonObject().put("keys", new JsonArray()));

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "http.port, FETCHBUS_HTTP_PORT",
      "pg.url, FETCHBUS_PG_URL",
      "fetch.perHostConcurrency, FETCHBUS_FETCH_PER_HOST_CONCURRENCY",
      "fetch.guard.allowPrivateNetworks, FETCHBUS_FETCH_GUARD_ALLOW_PRIVATE_NETWORKS",
      "pg.embedded.dataDir, FETCHBUS_PG_EMBEDDED_DATA_DIR"})
  @DisplayName("a key's variable is its path in upper snake case after FETCHBUS_")
  void variableNames(String path, String variable) {
    assertThat(EnvOverrides.variableName(path)).isEqualTo(variable);
  }

  @Test
  @DisplayName("variables override keys at any depth, parsed as the type of the default")
  void overridesTyped() {
    JsonObject out = EnvOverrides.apply(DEFAULTS, Map.of(
        "FETCHBUS_HTTP_PORT", "9090",
        "FETCHBUS_PG_URL", "postgresql://u:p@db:5432/x",
        "FETCHBUS_PG_EMBEDDED_DATA_DIR", "/var/lib/fetchbus",
        "FETCHBUS_FETCH_MAX_BODY_BYTES", "2048",
        "FETCHBUS_FETCH_FOLLOW_REDIRECTS", "false",
        "FETCHBUS_AUTH_KEYS", "a:1, b:2"));
    assertThat(out.getJsonObject("http").getValue("port")).isEqualTo(9090);
    assertThat(out.getJsonObject("http").getString("host")).isEqualTo("127.0.0.1");
    assertThat(out.getJsonObject("pg").getString("url")).isEqualTo("postgresql://u:p@db:5432/x");
    assertThat(out.getJsonObject("pg").getJsonObject("embedded").getString("dataDir")).isEqualTo("/var/lib/fetchbus");
    assertThat(out.getJsonObject("fetch").getLong("maxBodyBytes")).isEqualTo(2048L);
    assertThat(out.getJsonObject("fetch").getBoolean("followRedirects")).isFalse();
    assertThat(out.getJsonObject("auth").getJsonArray("keys")).containsExactly("a:1", "b:2");
    assertThat(DEFAULTS.getJsonObject("http").getInteger("port")).as("the input is not modified").isEqualTo(8080);
  }

  @Test
  @DisplayName("a value of the wrong type fails start-up with the variable's name")
  void badValuesFail() {
    assertThatThrownBy(() -> EnvOverrides.apply(DEFAULTS, Map.of("FETCHBUS_HTTP_PORT", "eighty")))
        .hasMessageStartingWith("FETCHBUS_HTTP_PORT: expected a number");
    assertThatThrownBy(() -> EnvOverrides.apply(DEFAULTS, Map.of("FETCHBUS_FETCH_FOLLOW_REDIRECTS", "yes")))
        .hasMessageStartingWith("FETCHBUS_FETCH_FOLLOW_REDIRECTS: expected true or false");
  }

  @Test
  @DisplayName("variables that name no key are reported, so typos can be warned about")
  void unknownReported() {
    assertThat(EnvOverrides.unknown(DEFAULTS, Map.of("FETCHBUS_HTTP_PROT", "1", "FETCHBUS_HTTP_PORT", "2", "HOME", "/",
        "FETCHBUS_LOG_LEVEL", "DEBUG", "FETCHBUS_CONFIG", "conf/other.json")))
        .containsExactly("FETCHBUS_HTTP_PROT");
  }

  @Test
  @DisplayName("secrets are masked before the configuration is logged")
  void secretsMasked() {
    JsonObject masked = Secrets.mask(new JsonObject()
        .put("pg", new JsonObject().put("url", "postgresql://fetchbus:hunter2@db:5432/fetchbus"))
        .put("auth", new JsonObject().put("keys", new JsonArray().add("ci:topsecret")).put("metricsSecret", "s3")));
    assertThat(masked.encode()).doesNotContain("hunter2", "topsecret", "s3\"");
    assertThat(masked.getJsonObject("pg").getString("url")).isEqualTo("postgresql://fetchbus:***@db:5432/fetchbus");
  }
}
