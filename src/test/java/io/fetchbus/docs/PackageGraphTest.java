package io.fetchbus.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What docs/architecture.md says of the packages, checked on the sources: the capability packages never import each
 * other (they talk over the bus, so any verticle can run on another node), and the packages form no cycle.
 */
class PackageGraphTest {
  private static final Path MAIN = Path.of("src/main/java/io/fetchbus");
  private static final Pattern IMPORT =
      Pattern.compile("^import (?:static )?io\\.fetchbus\\.([a-z]+)\\.", Pattern.MULTILINE);
  /** The packages with verticles of their own: they share only the contract and the helpers. */
  private static final Set<String> CAPABILITIES = Set.of("api", "fetch", "extract", "store", "crawl", "bridge");
  private static final Set<String> SHARED = Set.of("bus", "config", "auth", "ops", "search", "webhook");
  /** The API's own parts, kept apart: Firecrawl's routes, the fetch-and-store use case, the WARC records. */
  private static final Map<String, Set<String>> ALSO = Map.of("api", Set.of("firecrawl", "serve", "export"));

  @Test
  @DisplayName("capability packages import only bus and the shared helpers (and the API its own parts)")
  void capabilitiesTalkOverTheBus() throws IOException {
    Map<String, Set<String>> graph = graph();
    for (String capability : CAPABILITIES) {
      Set<String> allowed = new HashSet<>(SHARED);
      allowed.addAll(ALSO.getOrDefault(capability, Set.of()));
      assertThat(graph.getOrDefault(capability, Set.of())).as("packages %s imports", capability).isSubsetOf(allowed);
    }
    // The API's parts reach nothing the API may not: the shared packages only.
    for (String part : ALSO.get("api")) {
      assertThat(graph.getOrDefault(part, Set.of())).as("packages %s imports", part).isSubsetOf(SHARED);
    }
  }

  @Test
  @DisplayName("the packages import each other without a cycle, and architecture.md names each one")
  void noCycles() throws IOException {
    Map<String, Set<String>> graph = graph();
    Set<String> done = new HashSet<>();
    for (String p : graph.keySet()) {
      visit(p, graph, new TreeSet<>(), done);
    }
    String architecture = Files.readString(Path.of("docs/architecture.md"));
    for (String p : graph.keySet()) {
      assertThat(architecture).as("docs/architecture.md names the package %s", p).contains("`io.fetchbus." + p + "`");
    }
  }

  private static void visit(String p, Map<String, Set<String>> graph, Set<String> path, Set<String> done) {
    if (done.contains(p)) {
      return;
    }
    assertThat(path).as("a cycle through %s", path).doesNotContain(p);
    path.add(p);
    for (String q : graph.getOrDefault(p, Set.of())) {
      visit(q, graph, path, done);
    }
    path.remove(p);
    done.add(p);
  }

  /** Each top-level package under io.fetchbus with the other top-level packages its sources import. */
  private static Map<String, Set<String>> graph() throws IOException {
    Map<String, Set<String>> graph = new TreeMap<>();
    try (Stream<Path> files = Files.walk(MAIN)) {
      for (Path f : files.filter(f -> f.toString().endsWith(".java")).toList()) {
        Path rel = MAIN.relativize(f);
        if (rel.getNameCount() < 2) {
          continue; // the root package: the main class and the node's wiring, which deploys everything
        }
        String pkg = rel.getName(0).toString();
        Set<String> imports = graph.computeIfAbsent(pkg, k -> new TreeSet<>());
        Matcher m = IMPORT.matcher(Files.readString(f));
        while (m.find()) {
          if (!m.group(1).equals(pkg)) {
            imports.add(m.group(1));
          }
        }
      }
    }
    return graph;
  }
}
