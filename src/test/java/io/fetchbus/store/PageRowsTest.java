package io.fetchbus.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** How a page's long strings go to PostgreSQL: exactly the UTF-8 that {@link String#getBytes} would give. */
class PageRowsTest {
  @ParameterizedTest(name = "{index}")
  @DisplayName("every kind of character, unpaired surrogates included, goes as getBytes would send it")
  @ValueSource(strings = {"", "plain ASCII text", "caf\u00e9 cr\u00e8me", "it\u2019s \u201cquoted\u201d \u2013 fine",
      "emoji \uD83D\uDE00 and \u4E2D\u6587", "an unpaired \uD83D surrogate", "a lone low \uDE00 one",
      "ends high \uD83D", "\uD83D\u00e9", "caf\u00e9 \uD83D\u4E2D", "\uD83D\uD83D\uDE00", "\uDE00\uD83D",
      "\u00e9\uD83D\u00e9", "\u07FF\u0800\uFFFF"})
  void utf8IsWhatGetBytesGives(String s) {
    byte[] expected = s.getBytes(StandardCharsets.UTF_8);
    var sent = PageRows.utf8(s);
    assertThat(sent.length()).isEqualTo(expected.length);
    assertThat(sent.getBytes()).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0} repeats")
  @DisplayName("long texts too")
  @ValueSource(ints = {1, 8_000, 100_000})
  void longTextsToo(int repeats) {
    String s = "Na\u00efve \u2019words\u2019 ".repeat(repeats);
    assertThat(PageRows.utf8(s).getBytes()).isEqualTo(s.getBytes(StandardCharsets.UTF_8));
  }
}
