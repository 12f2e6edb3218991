package io.fetchbus.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The README stays a five-minute read, and no document hides a paragraph in one endless line. */
class DocShapeTest {
  /** Issue 16: a README of about 10 KB at most; the reference lives in docs/. */
  static final long README_MAX_BYTES = 10 * 1024;
  /** Longer lines of prose or tables do not fit a screen or a diff; code blocks may keep theirs. */
  static final int MAX_LINE = 200;

  @Test
  @DisplayName("the README is at most 10 KB")
  void readmeIsShort() throws IOException {
    assertThat(Files.size(Path.of("README.md"))).isLessThanOrEqualTo(README_MAX_BYTES);
  }

  @Test
  @DisplayName("no line of prose or table in the README and the docs is longer than 200 characters")
  void linesAreWrapped() {
    List<String> tooLong = new ArrayList<>();
    for (Path doc : Docs.documents()) {
      List<String> lines = Docs.proseLines(Docs.read(doc));
      for (String line : lines) {
        if (line.codePointCount(0, line.length()) > MAX_LINE) {
          tooLong.add(doc + ": " + line.substring(0, 60) + "… (" + line.length() + " characters)");
        }
      }
    }
    assertThat(tooLong).isEmpty();
  }
}
