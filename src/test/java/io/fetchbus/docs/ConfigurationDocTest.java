package io.fetchbus.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.config.EnvOverrides;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md against conf/config.json: every setting is in a table row
 * {@code | `key` | `FETCHBUS_VARIABLE` | `default` | meaning |} with the variable the service reads and the default the
 * file holds, no row names a key the file lacks, and every {@code FETCHBUS_*} variable the service, the tests' support,
 * CI, the benchmark and the clients read is documented.
 */
class ConfigurationDocTest {
  private static final String DOC = "docs/configuration.md";
  /** A key path as the first cell of a settings row: {@code fetch.guard.allowPrivateNetworks}, {@code roles}. */
  private static final Pattern KEY = Pattern.compile("[a-z][A-Za-z0-9]*(\\.[a-z][A-Za-z0-9]*)*");
  private static final Pattern VARIABLE = Pattern.compile("FETCHBUS_[A-Z0-9_]*[A-Z0-9]");

  @Test
  @DisplayName("every key of conf/config.json has a row in docs/configuration.md, and every row is a key of the file")
  void everySettingIsDocumented() throws IOException {
    Map<String, Object> settings = leaves(config());
    Map<String, List<String>> rows = settingRows();
    assertThat(rows.keySet()).as("the keys documented in %s", DOC).isEqualTo(new TreeSet<>(settings.keySet()));
  }

  @Test
  @DisplayName("each documented setting names the environment variable the service reads for it, and its default")
  void variablesAndDefaultsMatchTheFile() throws IOException {
    Map<String, Object> settings = leaves(config());
    List<String> wrong = new ArrayList<>();
    settingRows().forEach((key, cells) -> {
      if (!settings.containsKey(key)) {
        return; // reported by everySettingIsDocumented
      }
      String variable = EnvOverrides.variableName(key);
      // cells: variable, default, meaning
      if (cells.size() < 3 || !Docs.unquote(cells.get(0)).equals(variable)) {
        wrong.add(key + ": the variable is " + variable + ", the row says " + (cells.isEmpty() ? "nothing" : cells.get(0)));
      } else if (!sameValue(settings.get(key), parse(Docs.unquote(cells.get(1))))) {
        wrong.add(key + ": the default is " + Json.encode(settings.get(key)) + ", the row says " + cells.get(1));
      }
    });
    assertThat(wrong).as("rows of %s that disagree with conf/config.json", DOC).isEmpty();
  }

  @Test
  @DisplayName("every FETCHBUS_* variable read by the service, CI, the tests' support, the benchmark or a client is documented")
  void everyVariableIsDocumented() throws IOException {
    Set<String> fromSettings = new TreeSet<>();
    leaves(config()).keySet().forEach(key -> fromSettings.add(EnvOverrides.variableName(key)));
    String doc = Docs.read(DOC);
    Set<String> found = new TreeSet<>();
    for (String root : List.of("src/main", "src/test/java/io/fetchbus/support", "bench", ".ci", "clients")) {
      try (Stream<Path> files = Files.walk(Path.of(root))) {
        for (Path file : files.filter(Files::isRegularFile).filter(ConfigurationDocTest::isText).toList()) {
          Matcher m = VARIABLE.matcher(Docs.read(file));
          while (m.find()) {
            found.add(m.group());
          }
        }
      }
    }
    List<String> missing = found.stream()
        .filter(v -> !fromSettings.contains(v) && !doc.contains("`" + v + "`"))
        // "FETCHBUS_BENCH" as the prefix of the bench's own variables, each of them documented
        .filter(v -> found.stream().noneMatch(other -> other.startsWith(v + "_")))
        .toList();
    assertThat(found).as("variables found in the sources").contains("FETCHBUS_PG_URL", "FETCHBUS_CONFIG");
    assertThat(missing).as("variables read somewhere and not documented in %s", DOC).isEmpty();
  }

  private static boolean isText(Path file) {
    String name = file.getFileName().toString();
    return !name.contains(".") || name.matches(".*\\.(java|py|md|xml|json|yaml|sh|txt)$");
  }

  static JsonObject config() throws IOException {
    return new JsonObject(Files.readString(Path.of("conf/config.json")));
  }

  /** {@code "fetch.guard.allow" -> []} for every setting: a value that is not an object (arrays are settings too). */
  static Map<String, Object> leaves(JsonObject json) {
    Map<String, Object> out = new LinkedHashMap<>();
    collect(json, "", out);
    return out;
  }

  private static void collect(JsonObject json, String prefix, Map<String, Object> out) {
    for (String key : json.fieldNames()) {
      Object value = json.getValue(key);
      if (value instanceof JsonObject child) {
        collect(child, prefix + key + ".", out);
      } else {
        out.put(prefix + key, value);
      }
    }
  }

  /** The rows of the settings tables, by key (every row whose first cell is a backticked key path): the other cells. */
  private static Map<String, List<String>> settingRows() {
    Map<String, List<String>> rows = new LinkedHashMap<>();
    for (String line : Docs.proseLines(Docs.read(DOC))) {
      List<String> cells = Docs.cells(line);
      if (cells == null || cells.isEmpty() || !cells.get(0).startsWith("`")) {
        continue;
      }
      String key = Docs.unquote(cells.get(0));
      if (KEY.matcher(key).matches()) {
        assertThat(rows.put(key, cells.subList(1, cells.size()))).as("%s is documented twice", key).isNull();
      }
    }
    return rows;
  }

  /** A default as the table shows it: JSON ({@code 8080}, {@code ""}, {@code []}), else a bare string ({@code text}). */
  private static Object parse(String cell) {
    try {
      return Json.decodeValue(cell);
    } catch (DecodeException e) {
      return cell;
    }
  }

  private static boolean sameValue(Object expected, Object documented) {
    if (expected instanceof Number a && documented instanceof Number b) {
      return new BigDecimal(a.toString()).compareTo(new BigDecimal(b.toString())) == 0
          && (a instanceof Double) == (b instanceof Double); // 50.0 is shown as 50.0, 8080 as 8080
    }
    return expected == null ? documented == null : expected.equals(documented);
  }
}
