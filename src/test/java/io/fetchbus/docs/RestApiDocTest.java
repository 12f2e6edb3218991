package io.fetchbus.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** docs/rest-api.md is checked against openapi.yaml, so neither can name an operation the other lacks. */
class RestApiDocTest {
  /** A backticked {@code `GET /v1/pages/{id}`}, up to a query string or the closing backtick. */
  private static final Pattern OPERATION = Pattern.compile("`(GET|POST|PUT|PATCH|DELETE) (/[^`\\s?]*)");
  private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "options", "head", "patch", "trace");

  @Test
  @DisplayName("docs/rest-api.md names every operation of openapi.yaml, and no operation it lacks")
  void restApiDocNamesEveryOperation() throws IOException {
    Set<String> named = new TreeSet<>();
    Matcher m = OPERATION.matcher(Docs.read("docs/rest-api.md"));
    while (m.find()) {
      named.add(m.group(1) + " " + m.group(2));
    }
    assertThat(named).isEqualTo(operations());
  }

  /** {@code "GET /v1/pages/{id}"} for every operation of the contract the service is built from. */
  static Set<String> operations() throws IOException {
    Map<?, ?> doc;
    try (Reader in = Files.newBufferedReader(Path.of("src/main/resources/openapi.yaml"), StandardCharsets.UTF_8)) {
      doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
    }
    Set<String> out = new TreeSet<>();
    ((Map<?, ?>) doc.get("paths")).forEach((path, operations) -> ((Map<?, ?>) operations).keySet().stream()
        .map(String::valueOf)
        .filter(METHODS::contains)
        .forEach(method -> out.add(method.toUpperCase(Locale.ROOT) + " " + path)));
    return out;
  }
}
