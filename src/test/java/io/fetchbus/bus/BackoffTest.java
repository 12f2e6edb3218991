package io.fetchbus.bus;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BackoffTest {

  @ParameterizedTest(name = "retry {0}, base {1} ms, cap {2} ms: {3} to {4} ms")
  @CsvSource({
      "0, 500, 10000, 250, 500",
      "1, 500, 10000, 500, 1000",
      "3, 500, 10000, 2000, 4000",
      "5, 500, 10000, 5000, 10000",
      "1000, 500, 10000, 5000, 10000",
      "-3, 500, 10000, 250, 500",
      "0, 1, 10, 1, 1"})
  @DisplayName("a wait is base * 2^retry capped at the maximum, then a random point in the upper half of that")
  void boundedAndCapped(int retry, long baseMs, long maxMs, long least, long most) {
    for (int i = 0; i < 2_000; i++) {
      assertThat(Backoff.delayMs(retry, baseMs, maxMs)).isBetween(least, most);
    }
  }

  @Test
  @DisplayName("waits of the same retry spread out, so retries started together do not come back together")
  void jittered() {
    long first = Backoff.delayMs(4, 1000, 60_000);
    boolean differs = false;
    for (int i = 0; i < 100 && !differs; i++) {
      differs = Backoff.delayMs(4, 1000, 60_000) != first;
    }
    assertThat(differs).isTrue();
  }
}
