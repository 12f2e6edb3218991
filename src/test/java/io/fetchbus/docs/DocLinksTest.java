package io.fetchbus.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Every relative link of README.md, CONTRIBUTING.md and docs/*.md points to a file or directory of the repository,
 * and every anchor ({@code file.md#heading}, {@code #heading}) to a heading of that Markdown file.
 */
class DocLinksTest {
  /** {@code [text](target)} or {@code [text](target "title")}; images too. */
  private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");
  private static final Pattern INLINE_CODE = Pattern.compile("`[^`]*`");

  @Test
  @DisplayName("every relative link of the README and the docs points to an existing file, and every anchor to a heading")
  void relativeLinksResolve() {
    List<String> broken = new ArrayList<>();
    int checked = 0;
    for (Path doc : Docs.documents()) {
      for (String line : Docs.proseLines(Docs.read(doc))) {
        Matcher m = LINK.matcher(INLINE_CODE.matcher(line).replaceAll(""));
        while (m.find()) {
          String target = m.group(1);
          if (target.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) {
            continue; // https:, mailto: ...: not ours to check
          }
          checked++;
          String problem = problem(doc, target);
          if (problem != null) {
            broken.add(doc + ": " + target + ": " + problem);
          }
        }
      }
    }
    assertThat(checked).as("relative links found").isGreaterThan(20);
    assertThat(broken).as("broken links").isEmpty();
  }

  /** What is wrong with {@code target} as a link from {@code doc}, or null. */
  static String problem(Path doc, String target) {
    int hash = target.indexOf('#');
    String file = hash < 0 ? target : target.substring(0, hash);
    String anchor = hash < 0 ? null : target.substring(hash + 1);
    Path resolved = file.isEmpty() ? doc : doc.toAbsolutePath().getParent().resolve(file).normalize();
    if (!Files.exists(resolved)) {
      return "no such file " + resolved;
    }
    if (anchor != null && resolved.toString().endsWith(".md") && !Docs.anchors(Docs.read(resolved)).contains(anchor)) {
      return "no heading with the anchor #" + anchor + " in " + resolved.getFileName();
    }
    return null;
  }
}
