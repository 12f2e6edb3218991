package io.fetchbus.crawl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fetchbus.bus.Failure;
import io.vertx.core.eventbus.ReplyException;
import java.time.Instant;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The cron expressions of watches: when they fire next, and how close two runs can come. */
class WatchCronTest {

  @Test
  @DisplayName("the next time is the first one strictly after the given instant, in UTC")
  void next() {
    WatchCron every6h = WatchCron.parse("0 */6 * * *");
    assertThat(every6h.next(Instant.parse("2026-12-06T18:45:10Z"))).contains(Instant.parse("2026-12-07T00:00:00Z"));
    assertThat(every6h.next(Instant.parse("2026-12-07T00:00:00Z"))).contains(Instant.parse("2026-12-07T06:00:00Z"));
    assertThat(WatchCron.parse("30 9 * * 1").next(Instant.parse("2026-12-06T18:45:10Z")))
        .as("Monday 9:30").contains(Instant.parse("2026-12-07T09:30:00Z"));
  }

  @Test
  @DisplayName("the shortest spacing is found within a day, across midnight, and between days that fire")
  void minSpacing() {
    assertThat(WatchCron.parse("* * * * *").minSpacingSeconds()).isEqualTo(60);
    assertThat(WatchCron.parse("*/30 * * * *").minSpacingSeconds()).isEqualTo(1_800);
    assertThat(WatchCron.parse("0 */6 * * *").minSpacingSeconds()).isEqualTo(21_600);
    assertThat(WatchCron.parse("0 9,17 * * *").minSpacingSeconds()).as("17:00 to 9:00").isEqualTo(8 * 3_600);
    assertThat(WatchCron.parse("0 0,23 * * *").minSpacingSeconds()).as("23:00 to 0:00 the next day").isEqualTo(3_600);
    assertThat(WatchCron.parse("0 0,23 * * 1").minSpacingSeconds()).as("once a week, twice a day")
        .isEqualTo(23 * 3_600);
    assertThat(WatchCron.parse("0 12 * * 1").minSpacingSeconds()).isEqualTo(7 * 86_400);
    assertThat(WatchCron.parse("0 0 1 * *").minSpacingSeconds()).as("February").isEqualTo(28 * 86_400);
    assertThat(WatchCron.parse("0 0 29 2 *").minSpacingSeconds()).as("leap days").isEqualTo(1_461 * 86_400L);
    assertThat(WatchCron.parse("0 0 30 2 *").minSpacingSeconds()).as("never").isEqualTo(-1);
  }

  @Test
  @DisplayName("what is not a 5-field cron expression is a 400 that says so")
  void invalid() {
    for (String bad : new String[] {"", "every hour", "0 */6 * *", "61 * * * *", "0 0 * * * *"}) {
      assertThatThrownBy(() -> WatchCron.parse(bad)).as(bad).isInstanceOfSatisfying(ReplyException.class, e -> {
        assertThat(e.failureCode()).isEqualTo(Failure.INVALID.code);
        assertThat(e.getMessage()).startsWith("cron: ");
      });
    }
  }
}
