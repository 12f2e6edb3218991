package io.fetchbus.bridge;

import io.vertx.core.json.JsonArray;
import io.vertx.ext.bridge.PermittedOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The addresses one direction of the bridge permits. An entry made only of letters, digits, {@code .}, {@code _}
 * and {@code -} is one exact address ({@code fetchbus.fetch}); any other entry is a regular expression that must
 * match the whole address ({@code fetchbus\.crawl\.(submit|status)}). The same entries go to the bridge's own
 * {@link PermittedOptions} (exact {@code address} or {@code addressRegex}, with the same full-match rule), so
 * the verdict here and the bridge's are one.
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

  /** The same entries for {@code BridgeOptions}. */
  List<PermittedOptions> permitted() {
    List<PermittedOptions> out = new ArrayList<>();
    exact.forEach(a -> out.add(new PermittedOptions().setAddress(a)));
    patterns.forEach(p -> out.add(new PermittedOptions().setAddressRegex(p.pattern())));
    return out;
  }
}
