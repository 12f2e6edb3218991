package io.fetchbus.crawl;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinition;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import io.fetchbus.bus.Failure;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The cron expression of a watch: the Unix 5-field form (minute, hour, day of month, month, day of week), in UTC,
 * parsed and evaluated by cron-utils. A watch's runs must never come closer than {@code watches.minIntervalSeconds}:
 * {@link #minSpacingSeconds} finds how close they come.
 */
final class WatchCron {
  static final int MAX_LENGTH = 200;
  private static final CronParser PARSER;
  /** 28 years: every date falls on every weekday in that span, so every gap between days a cron fires appears. */
  private static final long SCAN_DAYS = 28L * 366;
  private static final ZonedDateTime SCAN_FROM = ZonedDateTime.of(2001, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);

  static {
    CronDefinition unix = CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX);
    PARSER = new CronParser(unix);
  }

  private final ExecutionTime times;

  private WatchCron(ExecutionTime times) {
    this.times = times;
  }

  /** Parsed, or a 400 that says what is wrong with {@code expression}. */
  static WatchCron parse(String expression) {
    if (expression.isBlank() || expression.length() > MAX_LENGTH) {
      throw Failure.INVALID.exception("cron: must be a cron expression of at most " + MAX_LENGTH + " characters");
    }
    try {
      return new WatchCron(ExecutionTime.forCron(PARSER.parse(expression.trim()).validate()));
    } catch (IllegalArgumentException e) {
      throw Failure.INVALID.exception("cron: is not a 5-field cron expression (minute hour day-of-month month "
          + "day-of-week): " + e.getMessage());
    }
  }

  /** The first time the cron fires strictly after {@code after}, or none when it never fires again. */
  Optional<Instant> next(Instant after) {
    return times.nextExecution(after.atZone(ZoneOffset.UTC)).map(ZonedDateTime::toInstant);
  }

  /**
   * The shortest time between two consecutive runs, in seconds; {@link Long#MAX_VALUE} for a cron that fires once
   * at most in 28 years, -1 for one that never fires. A 5-field cron fires at the same times of day on every day it
   * fires, so the closest runs are either two of one day, or the last of a day and the first of the next day it
   * fires: the times of one day and the gaps between its days tell both.
   */
  long minSpacingSeconds() {
    Optional<ZonedDateTime> first = times.nextExecution(SCAN_FROM.minusSeconds(1));
    if (first.isEmpty()) {
      return -1;
    }
    LocalDate day = first.get().toLocalDate();
    List<Integer> ofDay = new ArrayList<>();
    Optional<ZonedDateTime> t = first;
    while (t.isPresent() && t.get().toLocalDate().equals(day)) {
      ofDay.add(t.get().toLocalTime().toSecondOfDay());
      t = times.nextExecution(t.get());
    }
    long closest = Long.MAX_VALUE;
    for (int i = 1; i < ofDay.size(); i++) {
      closest = Math.min(closest, ofDay.get(i) - ofDay.get(i - 1));
    }
    int firstOfDay = ofDay.get(0);
    int lastOfDay = ofDay.get(ofDay.size() - 1);
    LocalDate end = SCAN_FROM.toLocalDate().plusDays(SCAN_DAYS);
    long fewestDays = Long.MAX_VALUE;
    while (t.isPresent() && t.get().toLocalDate().isBefore(end) && fewestDays > 1) {
      LocalDate next = t.get().toLocalDate();
      fewestDays = Math.min(fewestDays, ChronoUnit.DAYS.between(day, next));
      day = next;
      t = times.nextExecution(day.atStartOfDay(ZoneOffset.UTC).plusSeconds(lastOfDay));
    }
    if (fewestDays != Long.MAX_VALUE) {
      closest = Math.min(closest, fewestDays * 86_400 - (lastOfDay - firstOfDay));
    }
    return closest;
  }
}
