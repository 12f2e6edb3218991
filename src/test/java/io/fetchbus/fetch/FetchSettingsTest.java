package io.fetchbus.fetch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.fetchbus.config.ConfigLoader;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FetchSettingsTest {
  @Test
  void theCacheTakesASixteenthOfTheHeapByDefault() {
    assertEquals(16L << 20, FetchSettings.cacheBound(0, 256L << 20));
    assertEquals(64L << 20, FetchSettings.cacheBound(0, 1L << 30));
    assertEquals(1L << 20, FetchSettings.cacheBound(0, 4L << 20), "never below 1 MB");
    assertEquals(123_456, FetchSettings.cacheBound(123_456, 256L << 20), "a configured bound is kept");
  }

  @Test
  void theShippedConfigSizesTheCacheByTheHeap() {
    FetchSettings s = FetchSettings.from(ConfigLoader.loadNow(new JsonObject(), Map.of()));
    assertEquals(Runtime.getRuntime().maxMemory() / FetchSettings.HEAP_SHARE, s.cacheMaxBytes());
  }

  @Test
  void aNegativeBoundRefusesToStart() {
    JsonObject config = ConfigLoader.loadNow(new JsonObject(), Map.of());
    config.getJsonObject("cache").put("maxBytes", -1);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FetchSettings.from(config));
    assertEquals("cache.maxBytes must be 0 (a sixteenth of the heap) or positive", e.getMessage());
  }
}
