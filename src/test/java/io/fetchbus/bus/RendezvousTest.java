package io.fetchbus.bus;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class RendezvousTest {
  private static final List<String> THREE = List.of("node-a", "node-b", "node-c");

  private static Map<String, String> owners(List<String> nodes) {
    Map<String, String> out = new HashMap<>();
    for (int i = 0; i < 3000; i++) {
      String origin = "https://host" + i + ".example:443";
      out.put(origin, Rendezvous.owner(origin, nodes));
    }
    return out;
  }

  @Test
  @DisplayName("every node picks the same owner whatever the order it lists the nodes in, and the origins spread evenly")
  void agreedAndEven() {
    Map<String, String> owners = owners(THREE);
    assertThat(owners(List.of("node-c", "node-a", "node-b"))).isEqualTo(owners);
    Map<String, Integer> counts = new HashMap<>();
    owners.values().forEach(n -> counts.merge(n, 1, Integer::sum));
    assertThat(counts).hasSize(3);
    counts.values().forEach(n -> assertThat(n).isBetween(850, 1150));
    assertThat(Rendezvous.owner("http://127.0.0.1:8080", List.of("only"))).isEqualTo("only");
  }

  @Test
  @DisplayName("a node that leaves moves only its own origins, and a node that joins takes origins only for itself")
  void minimalMovement() {
    Map<String, String> three = owners(THREE);
    Map<String, String> two = owners(List.of("node-a", "node-b"));
    Map<String, String> four = owners(List.of("node-a", "node-b", "node-c", "node-d"));
    three.forEach((origin, owner) -> {
      if (!owner.equals("node-c")) {
        assertThat(two.get(origin)).isEqualTo(owner);
      }
      assertThat(four.get(origin)).isIn(owner, "node-d");
    });
  }

  @Test
  @DisplayName("the hash is fixed, so that nodes of different builds agree: FNV-1a then SplitMix64 (values computed independently)")
  void fixedHash() {
    assertThat(Rendezvous.score("http://example.com:80", "node-a")).isEqualTo(0xa777f580d255a1d5L);
    assertThat(Rendezvous.score("http://example.com:80", "node-b")).isEqualTo(0xe05ad8f6d0a78bc4L);
    assertThat(Rendezvous.owner("http://example.com:80", List.of("node-a", "node-b"))).isEqualTo("node-b");
  }

  @Test
  @DisplayName("origins hash into 256 buckets by fixed values, spread evenly; an origin's owner is its bucket's, so "
      + "every node and the origin leases agree on it, and 3 nodes share the 256 buckets evenly")
  void buckets() {
    assertThat(Rendezvous.bucket("http://example.com:80")).isEqualTo(232);
    assertThat(Rendezvous.bucket("https://example.org:443")).isEqualTo(199);
    int[] perBucket = new int[Rendezvous.BUCKETS];
    for (int i = 0; i < 25_600; i++) {
      perBucket[Rendezvous.bucket("https://host" + i + ".example:443")]++;
    }
    for (int n : perBucket) {
      assertThat(n).isBetween(50, 150);
    }
    Map<String, Integer> counts = new HashMap<>();
    for (int b = 0; b < Rendezvous.BUCKETS; b++) {
      counts.merge(Rendezvous.owner(Rendezvous.bucketKey(b), THREE), 1, Integer::sum);
    }
    counts.values().forEach(n -> assertThat(n).isBetween(60, 110));
    String origin = "http://127.0.0.1:8080";
    assertThat(Rendezvous.ownerOfOrigin(origin, THREE))
        .isEqualTo(Rendezvous.owner(Rendezvous.bucketKey(Rendezvous.bucket(origin)), THREE));
  }
}
