package io.fetchbus.docs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The Markdown documents of the repository, read as the doc tests need them: their text, their lines outside fenced
 * code blocks, their table rows and the anchors GitHub gives their headings. Paths are relative to the project's
 * root, the working directory of the tests.
 */
final class Docs {
  private static final Pattern HEADING = Pattern.compile("^#{1,6}\\s+(.*?)\\s*#*\\s*$");
  /** GitHub drops every character of a heading but letters, marks, digits, connector punctuation, spaces and '-'. */
  private static final Pattern NOT_IN_SLUG = Pattern.compile("[^\\p{L}\\p{M}\\p{N}\\p{Pc} -]");
  /** A table cell separator: a '|' not escaped as '\|'. */
  private static final Pattern CELL = Pattern.compile("(?<!\\\\)\\|");

  private Docs() {}

  /** README.md, CONTRIBUTING.md and every docs/*.md: the documents a newcomer reads. */
  static List<Path> documents() {
    List<Path> out = new ArrayList<>(List.of(Path.of("README.md"), Path.of("CONTRIBUTING.md")));
    try (Stream<Path> docs = Files.list(Path.of("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(out::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(file + " cannot be read", e);
    }
  }

  static String read(String file) {
    return read(Path.of(file));
  }

  /** The lines of {@code text} that are prose or tables: fenced code blocks (``` or ~~~) are left out. */
  static List<String> proseLines(String text) {
    List<String> out = new ArrayList<>();
    String fence = null;
    for (String line : text.split("\n", -1)) {
      String trimmed = line.stripLeading();
      if (fence == null && (trimmed.startsWith("```") || trimmed.startsWith("~~~"))) {
        fence = trimmed.substring(0, 3);
      } else if (fence != null && trimmed.startsWith(fence)) {
        fence = null;
      } else if (fence == null) {
        out.add(line);
      }
    }
    return out;
  }

  /** The anchors GitHub makes of the headings of a Markdown text, duplicates numbered as it numbers them. */
  static Set<String> anchors(String markdown) {
    Set<String> out = new LinkedHashSet<>();
    Map<String, Integer> seen = new HashMap<>();
    for (String line : proseLines(markdown)) {
      Matcher m = HEADING.matcher(line);
      if (!m.matches()) {
        continue;
      }
      String slug = slug(m.group(1));
      int n = seen.merge(slug, 1, Integer::sum);
      out.add(n == 1 ? slug : slug + "-" + (n - 1));
    }
    return out;
  }

  /** {@code "`POST /v1/fetch`: fetch a URL"} -> {@code "post-v1fetch-fetch-a-url"}, as GitHub does it. */
  static String slug(String heading) {
    String text = heading.replaceAll("\\[([^\\]]*)\\]\\([^)]*\\)", "$1"); // a link in a heading: its text
    return NOT_IN_SLUG.matcher(text.toLowerCase(Locale.ROOT)).replaceAll("").replace(' ', '-');
  }

  /** The cells of a table row ({@code | a | b |}), trimmed, with {@code \|} read as {@code |}; null if not a row. */
  static List<String> cells(String line) {
    String trimmed = line.trim();
    if (!trimmed.startsWith("|") || !trimmed.endsWith("|") || trimmed.length() < 2) {
      return null;
    }
    String[] parts = CELL.split(trimmed.substring(1, trimmed.length() - 1), -1);
    List<String> out = new ArrayList<>();
    for (String part : parts) {
      out.add(part.trim().replace("\\|", "|"));
    }
    return out;
  }

  /** {@code "`x`"} -> {@code "x"}; anything else as it is. */
  static String unquote(String cell) {
    return cell.length() >= 2 && cell.startsWith("`") && cell.endsWith("`") ? cell.substring(1, cell.length() - 1) : cell;
  }
}
