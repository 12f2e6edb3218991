package io.fetchbus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.ServiceProcess;
import io.fetchbus.support.TestDatabase;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's five-minute tour, run as a newcomer runs it: its shell blocks, in order, in one bash, from a fresh
 * directory holding only the built jar. Two things differ from the page: the two ports (8080 and 8000 may be taken
 * on a test machine, so free ones replace them, and the service is told its port by {@code FETCHBUS_HTTP_PORT}), and
 * the last block, Firecrawl's MCP server, which waits for an MCP client on its stdin. The service uses the tests'
 * database. A command that fails stops the tour ({@code set -e}); what the tour says each command shows is checked.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ReadmeTourIT {
  private static final Pattern BLOCK = Pattern.compile("```(?:bash|sh)?\\n(.*?)```", Pattern.DOTALL);

  @Test
  @DisplayName("every command of the README's tour runs as written and shows what the README says")
  void tourRunsAsWritten(@TempDir Path dir) throws IOException, InterruptedException {
    List<String> blocks = tourBlocks();
    assertThat(blocks.get(blocks.size() - 1)).contains("firecrawl-mcp");
    blocks.remove(blocks.size() - 1);
    String api = String.valueOf(freePort());
    String site = String.valueOf(freePort());
    String script = "set -ex\ntrap 'kill $(jobs -p) 2> /dev/null; wait' EXIT\n"
        // Through placeholders: a free port may itself contain 8000 (38000).
        + String.join("\n", blocks).replace("8080", "@API@").replace("8000", "@SITE@")
            .replace("@API@", api).replace("@SITE@", site);
    Files.writeString(dir.resolve("tour.sh"), script);
    Files.createSymbolicLink(dir.resolve("target"), ServiceProcess.JAR.getParent());

    ProcessBuilder pb = new ProcessBuilder("bash", "tour.sh").directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(dir.resolve("tour.log").toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("FETCHBUS_"));
    pb.environment().put("FETCHBUS_PG_URL", TestDatabase.url());
    pb.environment().put("FETCHBUS_HTTP_PORT", api);
    Process tour = pb.start();
    // The tour starts the service and a site in the background: they go with the test, even a test JVM stopped early.
    Thread killTour = new Thread(() -> {
      tour.descendants().forEach(ProcessHandle::destroyForcibly);
      tour.destroyForcibly();
    }, "kill-tour");
    Runtime.getRuntime().addShutdownHook(killTour);
    boolean ended;
    try {
      ended = tour.waitFor(200, TimeUnit.SECONDS);
    } finally {
      killTour.run();
      Runtime.getRuntime().removeShutdownHook(killTour);
    }
    String log = Files.readString(dir.resolve("tour.log"));
    assertThat(ended).as("the tour ended; its output:\n%s", log).isTrue();
    assertThat(tour.exitValue()).as("the tour's exit status; its output:\n%s", log).isZero();

    assertThat(log).as("the first fetch stores the page").contains("HTTP/1.1 201");
    assertThat(log).as("the second comes from the cache").contains("\"fromCache\":true");
    assertThat(log).as("search finds the page").contains("<b>Solar</b>");
    assertThat(log).as("the crawl's event stream ends with the job").contains("\"status\":\"completed\"");
    List<String> lines = Files.readAllLines(dir.resolve("site.jsonl"), StandardCharsets.UTF_8);
    assertThat(lines).as("the export: the three pages, one JSON object a line").hasSize(3)
        .allSatisfy(line -> assertThat(line).startsWith("{").contains("\"text\""));
    byte[] warc = Files.readAllBytes(dir.resolve("site.warc.gz"));
    assertThat(warc.length).isGreaterThan(2);
    assertThat(new byte[] {warc[0], warc[1]}).as("a gzip file").containsExactly(0x1f, 0x8b);
    assertThat(log).as("the watch's first run").contains("\"changeStatus\":\"new\"");
    // Not anchored to a line's start: curl's progress meter (its stderr, in the same log) may come first.
    assertThat(log).as("the metrics line").contains("fetchbus_fetches_total{");
    assertThat(log).as("the contract").contains("openapi: 3.");
  }

  /** The shell blocks of the README's tour section, in order. */
  private static List<String> tourBlocks() throws IOException {
    String readme = Files.readString(Path.of("README.md"));
    int start = readme.indexOf("## A five-minute tour");
    int end = readme.indexOf("\n## ", start + 1);
    assertThat(start).as("README.md has its tour").isNotNegative();
    Matcher m = BLOCK.matcher(readme.substring(start, end < 0 ? readme.length() : end));
    List<String> blocks = new ArrayList<>();
    while (m.find()) {
      blocks.add(m.group(1));
    }
    return blocks;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
