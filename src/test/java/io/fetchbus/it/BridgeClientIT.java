package io.fetchbus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.Processes;
import io.fetchbus.support.ServiceProcess;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestSite;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The Python client of clients/python against the fat jar with the TCP bridge on: the machine's python3 runs its test. */
@Timeout(value = 180, timeUnit = TimeUnit.SECONDS)
class BridgeClientIT extends TestBase {
  private static final Pattern BRIDGE_LISTENING = Pattern.compile("bridge listening on 127\\.0\\.0\\.1:(\\d+)");
  private static final Path CLIENT = Path.of("clients", "python", "test_client.py").toAbsolutePath();
  private static final String KEY = "it-bridge-s3cret";

  @RegisterExtension
  final Processes processes = new Processes();
  private TestSite site;

  @BeforeEach
  void startSite(VertxTestContext ctx) {
    TestSite.start(vertx, 40).onSuccess(s -> site = s).onComplete(ctx.succeedingThenComplete());
  }

  private record Run(int exitCode, String output) {}

  @Test
  @DisplayName("python3 clients/python/test_client.py passes against the jar: a fetch, a crawl followed on "
      + "fetchbus.crawl.progress to its exact page count, refused addresses, and frames without the key refused")
  void pythonClient(VertxTestContext ctx) {
    int expected = TestSite.pages(site.reachable(1, link -> true)).size();
    Map<String, String> env = ServiceProcess.baseEnv();
    env.put("FETCHBUS_BRIDGE_ENABLED", "true");
    env.put("FETCHBUS_BRIDGE_PORT", "0");
    env.put("FETCHBUS_AUTH_KEYS", "py:" + KEY);
    ServiceProcess service = processes.launch(vertx, "bridge-python", env);
    service.port()
        .compose(http -> service.awaitLog(BRIDGE_LISTENING))
        .compose(m -> runClient(Integer.parseInt(m.group(1)), expected))
        .compose(run -> service.readOutput().map(log -> {
          ctx.verify(() -> {
            assertThat(run.exitCode()).as("exit code of test_client.py, which printed:%n%s", run.output()).isZero();
            assertThat(log).as("the service's log").doesNotContain(KEY);
          });
          return run;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  /** Runs the client's test to its end: waiting for a process blocks, so it happens on a worker thread. */
  private io.vertx.core.Future<Run> runClient(int bridgePort, int expectedPages) {
    return vertx.executeBlocking(() -> {
      Path log = Path.of("target", "it", "bridge-python-client.log").toAbsolutePath();
      Process p = new ProcessBuilder(List.of("python3", "-u", CLIENT.toString(), "--bridge-port",
          String.valueOf(bridgePort), "--site-url", site.url(""), "--expected-pages", String.valueOf(expectedPages),
          "--api-key", KEY))
          .directory(CLIENT.getParent().toFile())
          .redirectErrorStream(true)
          .redirectOutput(log.toFile())
          .start();
      if (!p.waitFor(150, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
      String output = Files.readString(log);
      int code = p.isAlive() ? -1 : p.exitValue();
      if (code != 0) {
        System.out.println("===== test_client.py =====\n" + output + "===== end of test_client.py =====");
      }
      return new Run(code, output);
    });
  }
}
