package io.fetchbus.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fetchbus.bus.Bus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The allow-lists of conf/config.json, and the start-up checks that keep internal addresses out of them. */
class BridgeSettingsTest {

  private static JsonObject defaults() throws Exception {
    return new JsonObject(Files.readString(Path.of("conf", "config.json")));
  }

  private static JsonObject with(String list, String... entries) throws Exception {
    JsonObject cfg = defaults();
    cfg.getJsonObject("bridge").put(list, new JsonArray(List.of((Object[]) entries)));
    return cfg;
  }

  @Test
  @DisplayName("the default allow-lists open fetch, the crawl requests, pages.get and pages.find, and the two published "
      + "addresses; nothing else")
  void defaults_() throws Exception {
    BridgeSettings s = BridgeSettings.from(defaults());
    assertThat(s.host()).isEqualTo("127.0.0.1");
    assertThat(s.port()).isEqualTo(7000);
    Set<String> inbound = new HashSet<>();
    Set<String> outbound = new HashSet<>();
    for (String address : busAddresses()) {
      if (s.inbound().permits(address)) {
        inbound.add(address);
      }
      if (s.outbound().permits(address)) {
        outbound.add(address);
      }
    }
    assertThat(inbound).containsExactlyInAnyOrder(Bus.FETCH, Bus.CRAWL_SUBMIT, Bus.CRAWL_STATUS, Bus.CRAWL_CANCEL,
        Bus.CRAWL_LIST, Bus.CRAWL_ERRORS, Bus.PAGES_GET, Bus.PAGES_FIND);
    assertThat(outbound).containsExactlyInAnyOrder(Bus.PAGE_STORED, Bus.CRAWL_PROGRESS);
    assertThat(s.inbound().permits("fetchbus.crawl.submit.x")).isFalse();
    assertThat(s.inbound().permits("xfetchbus.crawl.list")).isFalse();
  }

  @Test
  @DisplayName("an allow-list that would open an internal address, let clients publish fake events or consume Fetchbus's "
      + "requests stops the start, naming the address")
  void unsafeListsRefused() {
    assertThatThrownBy(() -> BridgeSettings.from(with("inbound", "fetchbus\\..*")))
        .hasMessageContaining("bridge.inbound").hasMessageContaining("only Fetchbus's own verticles");
    assertThatThrownBy(() -> BridgeSettings.from(with("inbound", "fetchbus.crawl.*")))
        .hasMessageContaining("bridge.inbound").hasMessageContaining(Bus.CRAWL_ENDED);
    assertThatThrownBy(() -> BridgeSettings.from(with("inbound", Bus.PAGES_SAVE))).hasMessageContaining(Bus.PAGES_SAVE);
    assertThatThrownBy(() -> BridgeSettings.from(with("inbound", Bus.CRAWL_PROGRESS)))
        .hasMessageContaining("where only Fetchbus publishes");
    assertThatThrownBy(() -> BridgeSettings.from(with("outbound", Bus.FETCH)))
        .hasMessageContaining("bridge.outbound").hasMessageContaining(Bus.FETCH);
    assertThatThrownBy(() -> BridgeSettings.from(with("outbound", "fetchbus\\.frontier\\..*")))
        .hasMessageContaining("bridge.outbound");
    assertThatThrownBy(() -> BridgeSettings.from(with("inbound", "fetchbus.(")))
        .hasMessageContaining("bridge.inbound[0]: not a valid regular expression");
  }

  @Test
  @DisplayName("every address of Bus is classified exactly once: a request, published, or internal")
  void everyAddressClassified() throws Exception {
    for (String address : busAddresses()) {
      int in = (Exposure.REQUESTS.contains(address) ? 1 : 0) + (Exposure.PUBLISHED.contains(address) ? 1 : 0)
          + (Exposure.INTERNAL.contains(address) ? 1 : 0);
      assertThat(in).as(address + " in Exposure's sets").isEqualTo(1);
    }
  }

  /** The values of Bus's address constants: {@code fetchbus.*}, except the name of the node-info map. */
  private static List<String> busAddresses() throws IllegalAccessException {
    List<String> out = new ArrayList<>();
    for (Field f : Bus.class.getFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class
          && ((String) f.get(null)).startsWith("fetchbus.") && !f.getName().equals("NODE_INFO")) {
        out.add((String) f.get(null));
      }
    }
    return out;
  }
}
