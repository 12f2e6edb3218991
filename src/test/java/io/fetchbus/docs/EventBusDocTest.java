package io.fetchbus.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** docs/event-bus.md names every address of {@link Bus}, the contract it documents. */
class EventBusDocTest {

  @Test
  @DisplayName("docs/event-bus.md names every event-bus address declared in Bus")
  void everyAddressIsDocumented() throws IllegalAccessException {
    String doc = Docs.read("docs/event-bus.md");
    Set<String> addresses = new TreeSet<>();
    for (Field f : Bus.class.getFields()) {
      // NODE_INFO names a local map of the node, not an address.
      if (Modifier.isStatic(f.getModifiers()) && !f.getName().startsWith("NODE_")
          && f.get(null) instanceof String value && value.startsWith("fetchbus.")) {
        // The prefix of the per-node fetch addresses is documented as fetchbus.fetch.node.<id>.
        addresses.add(value.endsWith(".") ? value + "<id>" : value);
      }
    }
    assertThat(addresses).as("addresses in Bus").contains(Bus.FETCH, Bus.PAGE_STORED);
    assertThat(addresses.stream().filter(a -> !doc.contains("`" + a + "`") && !documentedAsPair(doc, a)).toList())
        .as("addresses of Bus not named in docs/event-bus.md").isEmpty();
  }

  /** {@code fetchbus.crawl.status / .cancel}: the second address of a row that names two. */
  private static boolean documentedAsPair(String doc, String address) {
    int dot = address.lastIndexOf('.');
    return doc.contains("` / `" + address.substring(dot) + "`");
  }
}
