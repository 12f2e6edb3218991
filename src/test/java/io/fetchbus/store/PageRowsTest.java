package io.fetchbus.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** How a page's long strings go to PostgreSQL: exactly the UTF-8 that {@link String#getBytes} would give. */
class PageRowsTest {
  @ParameterizedTest
  @ValueSource(strings = {"", "plain ASCII text", "caf\u00e9 cr\u00e8me", "it\u2019s \u201cquoted\u201d \u2013 fine",
      "emoji \uD83D\uDE00 and \u4E2D\u6587", "an unpaired \uD83D surrogate", "a lone low \uDE00 one", "ends high \uD83D"})
  void utf8IsWhatGetBytesGives(String s) {
    byte[] expected = s.getBytes(StandardCharsets.UTF_8);
    var sent = PageRows.utf8(s);
    assertThat(sent.length()).isEqualTo(expected.length);
    assertThat(sent.getBytes()).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 8_000, 100_000})
  void longTextsToo(int repeats) {
    String s = "Na\u00efve \u2019words\u2019 ".repeat(repeats);
    assertThat(PageRows.utf8(s).getBytes()).isEqualTo(s.getBytes(StandardCharsets.UTF_8));
  }
}
