package io.fetchbus.extract;

import io.fetchbus.bus.ContentFormats;
import io.vertx.core.json.JsonObject;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** What a caller can ask {@link HtmlExtractor} for, by its lower-case name in the request's {@code "formats"}. */
enum Format {
  HTML, TEXT, MARKDOWN, LINKS, METADATA;

  /** The name used on the bus, in requests and as the reply key. */
  String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The formats a request asks for, validated by the contract's {@link ContentFormats}: {@code null} (no
   * {@code "formats"} key) means metadata only.
   *
   * @throws io.vertx.core.eventbus.ReplyException a 400 naming the first value that is not a format
   */
  static Set<Format> parse(Object formats) {
    Set<Format> parsed = EnumSet.noneOf(Format.class);
    for (String name : ContentFormats.from(new JsonObject().put("formats", formats))) {
      parsed.add(valueOf(name.toUpperCase(Locale.ROOT)));
    }
    return parsed;
  }
}
