package io.fetchbus.crawl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fetchbus.bus.Failure;
import io.vertx.core.eventbus.ReplyException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
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
  @DisplayName("the worst cases take milliseconds, not the seconds a walk of their runs took: three days a week, leap "
      + "days, every minute, and a day of month or of week (either fires)")
  void worstCasesAreCheap() {
    Map<String, Long> expected = new LinkedHashMap<>();
    expected.put("0 0 * * 1,3,5", 2 * 86_400L);
    expected.put("0 0 29 2 *", 1_461 * 86_400L);
    expected.put("* * * * *", 60L);
    expected.put("0 0,23 * * 1", 23 * 3_600L);
    expected.put("0 0 31 * 0", 86_400L); // the 31st or a Sunday: Sunday the 30th, Monday the 31st
    expected.put("0 0 13 * 5", 86_400L); // the 13th or a Friday
    expected.put("30 */7 * * 2,6", 7 * 3_600L);
    expected.put("0 0 * * 7", 7 * 86_400L);
    expected.put("0 0 31 2,4,6,9,11 *", -1L);
    Map<String, WatchCron> parsed = new LinkedHashMap<>();
    expected.keySet().forEach(cron -> parsed.put(cron, WatchCron.parse(cron)));
    Map<String, Long> found = new LinkedHashMap<>();
    long started = System.nanoTime();
    parsed.forEach((cron, c) -> found.put(cron, c.minSpacingSeconds()));
    Duration took = Duration.ofNanos(System.nanoTime() - started);
    assertThat(found).isEqualTo(expected);
    // A walk of the runs took 1.3 s for the first of these alone, on this machine under load; now all of them
    // together take a few ms (tens before the JIT has compiled anything).
    assertThat(took).isLessThan(Duration.ofMillis(300));
  }

  @Test
  @DisplayName("the spacing read from the fields is the one cron-utils' own runs show, names, steps and lists included")
  void agreesWithTheRuns() {
    for (String cron : new String[] {"*/7 */5 */3 */2 */4", "0 0 * JAN-MAR MON-fri", "0 0 5/10 * *", "0 0 */2 * 1",
        "0 0 1-31/1 * 1", "0 0 * * 0-6/2", "15 3 29 2 1", "0 12 1 */3 3", "0 0 29,30 1,2 *", "0 9,17 1,15 * *",
        "0 0 31 * 0", "0 0 * * 1,3,5", "0 0 29 2 *", "45 23 * * sun"}) {
      WatchCron parsed = WatchCron.parse(cron);
      Instant at = Instant.parse("2024-01-01T00:00:00Z");
      Instant until = Instant.parse("2041-01-01T00:00:00Z");
      long closest = Long.MAX_VALUE;
      for (int runs = 0; runs < 800; runs++) {
        Instant next = parsed.next(at).orElseThrow();
        if (next.isAfter(until)) {
          break;
        }
        if (runs > 0) {
          closest = Math.min(closest, next.getEpochSecond() - at.getEpochSecond());
        }
        at = next;
      }
      assertThat(parsed.minSpacingSeconds()).as(cron).isEqualTo(closest);
    }
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
