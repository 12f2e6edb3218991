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
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The cron expression of a watch: the Unix 5-field form (minute, hour, day of month, month, day of week), in UTC,
 * parsed and evaluated by cron-utils. A watch's runs must never come closer than {@code watches.minIntervalSeconds}:
 * {@link #minSpacingSeconds} finds how close they come, from the fields, in about a millisecond at worst.
 */
final class WatchCron {
  static final int MAX_LENGTH = 200;
  private static final CronParser PARSER;
  /** The Gregorian calendar repeats every 400 years, weekdays included (146,097 days are 20,871 weeks). */
  private static final long CYCLE_DAYS = 146_097;
  private static final LocalDate CYCLE_FROM = LocalDate.of(2001, 1, 1);
  private static final List<String> MONTH_NAMES = List.of("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG",
      "SEP", "OCT", "NOV", "DEC");
  private static final List<String> DAY_NAMES = List.of("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT");

  static {
    CronDefinition unix = CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX);
    PARSER = new CronParser(unix);
  }

  private final ExecutionTime times;
  private final Fields fields;

  private WatchCron(ExecutionTime times, Fields fields) {
    this.times = times;
    this.fields = fields;
  }

  /** Parsed, or a 400 that says what is wrong with {@code expression}. */
  static WatchCron parse(String expression) {
    if (expression.isBlank() || expression.length() > MAX_LENGTH) {
      throw Failure.INVALID.exception("cron: must be a cron expression of at most " + MAX_LENGTH + " characters");
    }
    try {
      return new WatchCron(ExecutionTime.forCron(PARSER.parse(expression.trim()).validate()),
          Fields.of(expression));
    } catch (IllegalArgumentException e) { // NumberFormatException included
      throw Failure.INVALID.exception("cron: is not a 5-field cron expression (minute hour day-of-month month "
          + "day-of-week): " + e.getMessage());
    }
  }

  /** The first time the cron fires strictly after {@code after}, or none when it never fires again. */
  Optional<Instant> next(Instant after) {
    return times.nextExecution(after.atZone(ZoneOffset.UTC)).map(ZonedDateTime::toInstant);
  }

  /**
   * The shortest time between two consecutive runs, in seconds; -1 for a cron that never fires. Worked out from the
   * cron's fields, not by walking its runs with cron-utils (which took seconds for a cron firing three days a week,
   * over the 28 years that put every date on every weekday): a 5-field cron fires at the same times of day on every day it fires,
   * so the closest runs are either two of one day, or the last of a day and the first of the next day it fires. The
   * days it fires repeat every 400 years (146,097 days, a whole number of weeks), which one pass over plain integers
   * covers in about a millisecond. Days match as cron-utils matches them: a day of month or a day of week that is
   * not {@code *} restricts the days, and when both do, a day that matches either fires.
   */
  long minSpacingSeconds() {
    Fields f = fields;
    List<Integer> ofDay = new ArrayList<>();
    for (int h = 0; h < 24; h++) {
      for (int m = 0; m < 60; m++) {
        if (f.hours[h] && f.minutes[m]) {
          ofDay.add(h * 3_600 + m * 60);
        }
      }
    }
    long closest = Long.MAX_VALUE;
    for (int i = 1; i < ofDay.size(); i++) {
      closest = Math.min(closest, ofDay.get(i) - ofDay.get(i - 1));
    }
    long fewestDays = fewestDaysBetweenFirings(f);
    if (ofDay.isEmpty() || fewestDays < 0) {
      return -1;
    }
    if (fewestDays != Long.MAX_VALUE) {
      closest = Math.min(closest, fewestDays * 86_400 - (ofDay.get(ofDay.size() - 1) - ofDay.get(0)));
    }
    return closest;
  }

  /** The fewest days between two days the cron fires, over a whole 400-year cycle and across its end; -1: never. */
  private static long fewestDaysBetweenFirings(Fields f) {
    int year = CYCLE_FROM.getYear();
    int month = CYCLE_FROM.getMonthValue();
    int day = CYCLE_FROM.getDayOfMonth();
    int dow = CYCLE_FROM.getDayOfWeek().getValue() % 7; // cron's 0 is Sunday
    long first = -1;
    long last = -1;
    long fewest = Long.MAX_VALUE;
    for (long i = 0; i < CYCLE_DAYS && fewest > 1; i++) {
      if (f.fires(month, day, dow)) {
        if (last >= 0) {
          fewest = Math.min(fewest, i - last);
        } else {
          first = i;
        }
        last = i;
      }
      dow = (dow + 1) % 7;
      if (++day > lengthOfMonth(year, month)) {
        day = 1;
        if (++month > 12) {
          month = 1;
          year++;
        }
      }
    }
    if (first < 0) {
      return -1;
    }
    return fewest > 1 ? Math.min(fewest, first + CYCLE_DAYS - last) : fewest;
  }

  private static int lengthOfMonth(int year, int month) {
    return switch (month) {
      case 2 -> (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28;
      case 4, 6, 9, 11 -> 30;
      default -> 31;
    };
  }

  /**
   * The values each field allows, read from the expression cron-utils validated (numbers, names, {@code *}, ranges,
   * steps and lists: all a Unix cron has). {@code anyDay...}: the field is {@code *}, so it does not restrict.
   */
  private record Fields(boolean[] minutes, boolean[] hours, boolean[] daysOfMonth, boolean[] months,
                        boolean[] daysOfWeek, boolean anyDayOfMonth, boolean anyDayOfWeek) {
    static Fields of(String expression) {
      String[] f = expression.trim().split("\\s+");
      if (f.length != 5) {
        throw new IllegalArgumentException("expected 5 fields, got " + f.length);
      }
      boolean[] dow = values(f[4], 0, 7, DAY_NAMES);
      dow[0] |= dow[7]; // 7 is Sunday too
      return new Fields(values(f[0], 0, 59, null), values(f[1], 0, 23, null), values(f[2], 1, 31, null),
          values(f[3], 1, 12, MONTH_NAMES), dow, f[2].equals("*"), f[4].equals("*"));
    }

    boolean fires(int month, int day, int dow) {
      if (!months[month]) {
        return false;
      }
      if (anyDayOfMonth || anyDayOfWeek) {
        return daysOfMonth[day] && daysOfWeek[dow];
      }
      return daysOfMonth[day] || daysOfWeek[dow];
    }

    private static boolean[] values(String field, int min, int max, List<String> names) {
      boolean[] out = new boolean[max + 1];
      for (String part : field.split(",")) {
        String range = part;
        int step = 1;
        int slash = part.indexOf('/');
        if (slash >= 0) {
          range = part.substring(0, slash);
          step = Integer.parseInt(part.substring(slash + 1));
        }
        int from;
        int to;
        if (range.equals("*")) {
          from = min;
          to = max;
        } else if (range.contains("-")) {
          from = value(range.substring(0, range.indexOf('-')), names);
          to = value(range.substring(range.indexOf('-') + 1), names);
        } else {
          from = value(range, names);
          to = slash >= 0 ? max : from; // "5/10": from 5 to the end, every 10
        }
        if (step < 1 || from < min || to > max || from > to) {
          throw new IllegalArgumentException("a value out of " + min + "-" + max + ": " + part);
        }
        for (int v = from; v <= to; v += step) {
          out[v] = true;
        }
      }
      return out;
    }

    private static int value(String text, List<String> names) {
      int named = names == null ? -1 : names.indexOf(text.toUpperCase(Locale.ROOT));
      return named >= 0 ? named + (names == MONTH_NAMES ? 1 : 0) : Integer.parseInt(text);
    }
  }
}
