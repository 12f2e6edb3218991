package io.fetchbus.support;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One scrape of {@code /metrics} (Prometheus text format), parsed into series to assert on. */
public final class Scrape {
  private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  /** One sample: the metric's name, its labels and its value. */
  public record Series(String name, Map<String, String> labels, double value) {}

  private final String text;
  private final List<Series> series = new ArrayList<>();

  private Scrape(String text) {
    this.text = text;
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int brace = line.indexOf('{');
      int space = line.lastIndexOf(' ');
      String name = brace < 0 ? line.substring(0, space) : line.substring(0, brace);
      Map<String, String> labels = new LinkedHashMap<>();
      if (brace >= 0) {
        Matcher m = LABEL.matcher(line.substring(brace, line.lastIndexOf('}') + 1));
        while (m.find()) {
          labels.put(m.group(1), m.group(2));
        }
      }
      series.add(new Series(name, labels, Double.parseDouble(line.substring(space + 1))));
    }
  }

  public static Scrape parse(String text) {
    return new Scrape(text);
  }

  /** The sum of the series named {@code name} that carry every label given as {@code "label", "value"} pairs. */
  public double value(String name, String... labelPairs) {
    double sum = 0;
    for (Series s : series) {
      if (s.name().equals(name) && matches(s, labelPairs)) {
        sum += s.value();
      }
    }
    return sum;
  }

  /** Whether any series is named {@code name}. */
  public boolean has(String name) {
    return series.stream().anyMatch(s -> s.name().equals(name));
  }

  /** Every value {@code label} takes in the series named {@code name}. */
  public Set<String> labelValues(String name, String label) {
    Set<String> out = new TreeSet<>();
    for (Series s : series) {
      if (s.name().equals(name) && s.labels().containsKey(label)) {
        out.add(s.labels().get(label));
      }
    }
    return out;
  }

  /** Every label value of every series, for checks that something never became a label. */
  public Set<String> allLabelValues() {
    Set<String> out = new TreeSet<>();
    series.forEach(s -> out.addAll(s.labels().values()));
    return out;
  }

  public List<Series> series() {
    return List.copyOf(series);
  }

  @Override
  public String toString() {
    return text;
  }

  private static boolean matches(Series s, String... labelPairs) {
    for (int i = 0; i + 1 < labelPairs.length; i += 2) {
      if (!labelPairs[i + 1].equals(s.labels().get(labelPairs[i]))) {
        return false;
      }
    }
    return true;
  }
}
