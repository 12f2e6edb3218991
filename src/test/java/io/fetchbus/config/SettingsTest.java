package io.fetchbus.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SettingsTest {
  private static final JsonObject DEFAULTS = ConfigLoader.loadNow(new JsonObject(),
      Map.of("FETCHBUS_CONFIG", "does/not/exist.json"));

  @Test
  @DisplayName("a setting is read from the configuration, in a nested section too, with no default of its own")
  void reads() {
    assertThat(Settings.number(DEFAULTS, "fetch", "maxRedirects").intValue()).isEqualTo(5);
    assertThat(Settings.number(DEFAULTS, "fetch.retry", "max").intValue()).isEqualTo(2);
    assertThat(Settings.string(DEFAULTS, "pg.embedded", "dataDir")).isEqualTo("data/pg");
    assertThat(Settings.bool(DEFAULTS, "fetch.guard", "allowPrivateNetworks")).isFalse();
    assertThat(Settings.array(DEFAULTS, "auth", "keys")).isEqualTo(new JsonArray());
  }

  @Test
  @DisplayName("a missing setting or section fails, naming it and ConfigLoader; a value of the wrong type fails, "
      + "naming the setting")
  void refusesMissingAndMistyped() {
    JsonObject cfg = DEFAULTS.copy();
    cfg.getJsonObject("fetch").getJsonObject("retry").remove("max");
    assertThatThrownBy(() -> Settings.number(cfg, "fetch.retry", "max"))
        .hasMessageContaining("fetch.retry.max").hasMessageContaining("ConfigLoader");
    assertThatThrownBy(() -> Settings.string(new JsonObject(), "pg.embedded", "dataDir"))
        .hasMessageContaining("pg.embedded.dataDir");
    cfg.getJsonObject("bridge").put("inbound", "fetchbus.fetch");
    assertThatThrownBy(() -> Settings.array(cfg, "bridge", "inbound")).hasMessageContaining("bridge.inbound")
        .hasMessageContaining("jsonarray");
  }
}
