package io.fetchbus.bridge;

import io.vertx.core.json.JsonArray;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The addresses one direction of the bridge permits. An entry made only of letters, digits, {@code .}, {@code _}
 * and {@code -} is one exact address ({@code fetchbus.fetch}); any other entry is a regular expression that must
 * match the whole address ({@code fetchbus\.crawl\.(submit|status)}).
 */
final class AllowList {
  private static final Pattern PLAIN_ADDRESS = Pattern.compile("[A-Za-z0-9._-]+");

  private final List<String> exact = new ArrayList<>();
  private final List<Pattern> patterns = new ArrayList<>();

  private AllowList() {}

  /** {@code key} names the setting in errors ({@code bridge.inbound}). */
  static AllowList of(String key, JsonArray entries) {
    AllowList list = new AllowList();
    for (int i = 0; i < entries.size(); i++) {
      if (!(entries.getValue(i) instanceof String entry) || entry.isBlank()) {
        throw new IllegalArgumentException(key + "[" + i + "]: must be an address or a regular expression");
      }
      if (PLAIN_ADDRESS.matcher(entry).matches()) {
        list.exact.add(entry);
        continue;
      }
      try {
        list.patterns.add(Pattern.compile(entry));
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException(key + "[" + i + "]: not a valid regular expression: " + e.getDescription());
      }
    }
    return list;
  }

  boolean permits(String address) {
    if (exact.contains(address)) {
      return true;
    }
    for (Pattern p : patterns) {
      if (p.matcher(address).matches()) {
        return true;
      }
    }
    return false;
  }
}
