package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The README's API reference is checked against openapi.yaml, so neither can name an operation the other lacks. */
class ReadmeContractTest {
  /** A backticked {@code `GET /v1/pages/{id}`}, up to a query string or the closing backtick. */
  private static final Pattern OPERATION = Pattern.compile("`(GET|POST|PUT|PATCH|DELETE) (/[^`\\s?]*)");

  @Test
  @DisplayName("the README's REST API section names every operation of openapi.yaml, and no operation it lacks")
  void readmeNamesEveryOperation() throws IOException {
    String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
    int start = readme.indexOf("\n## REST API");
    int end = readme.indexOf("\n## ", start + 1);
    assertThat(start).as("the README has a REST API section").isNotNegative();
    String rest = readme.substring(start, end < 0 ? readme.length() : end);
    Set<String> named = new TreeSet<>();
    Matcher m = OPERATION.matcher(rest);
    while (m.find()) {
      named.add(m.group(1) + " " + m.group(2));
    }
    assertThat(named).isEqualTo(ContractTest.operations(ContractTest.document()));
  }
}
