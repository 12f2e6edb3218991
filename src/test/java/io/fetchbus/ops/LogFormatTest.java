package io.fetchbus.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The service's own logback.xml (not the tests'), driven in a logger context of its own, writing to a captured stdout. */
class LogFormatTest {
  private final PrintStream stdout = System.out;

  @AfterEach
  void restore() {
    System.setOut(stdout);
    LogFormat.use("text");
  }

  private List<String> logWith(String format) throws Exception {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new LogbackMDCAdapter()); // what SLF4J's binding does for the default context
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(LogFormatTest.class.getResource("/logback.xml"));
    LogFormat.use(format);
    context.getLogger("io.fetchbus.access").atInfo().setMessage("GET {} 200").addArgument("/v1/pages")
        .addKeyValue("status", 200).addKeyValue("requestId", "req-1").log();
    LogFormat.flushAccessLog(context); // the access log is written by a thread of its own: what the service does at exit
    context.stop();
    System.setOut(stdout);
    return captured.toString(StandardCharsets.UTF_8).lines().toList();
  }

  @Test
  @DisplayName("json: one JSON object per line, with level, logger, message and the key-value pairs")
  void json() throws Exception {
    List<String> lines = logWith("json");
    assertThat(lines).hasSize(1);
    JsonObject line = new JsonObject(lines.get(0));
    assertThat(line.getString("level")).isEqualTo("INFO");
    assertThat(line.getString("loggerName")).isEqualTo("io.fetchbus.access");
    assertThat(line.getString("formattedMessage")).isEqualTo("GET /v1/pages 200");
    assertThat(line.getJsonArray("kvpList").encode()).contains("\"requestId\":\"req-1\"").contains("\"status\":\"200\"");
  }

  @Test
  @DisplayName("text (the default): one readable line, and no JSON")
  void text() throws Exception {
    List<String> lines = logWith("text");
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0)).matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  \\[.*] io.fetchbus.access - GET /v1/pages 200");
  }

  @Test
  @DisplayName("an unknown layout is refused with the setting's name")
  void unknown() {
    assertThatThrownBy(() -> LogFormat.use("xml")).hasMessageContaining("log.format must be text or json");
  }
}
