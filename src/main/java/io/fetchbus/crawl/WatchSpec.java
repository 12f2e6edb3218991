package io.fetchbus.crawl;

import io.fetchbus.bus.ContentFormats;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.Fields;
import io.fetchbus.bus.WebUrl;
import io.fetchbus.webhook.Webhook;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jsoup.select.QueryParser;
import org.jsoup.select.Selector;

/**
 * A watch as submitted: {@code {"urls" or "crawl", "intervalSeconds"?, "minIntervalSeconds"?, "maxIntervalSeconds"?,
 * "cron"?, "include"?, "exclude"?, "threshold"?, "formats"?, "webhook"?}}, validated against {@link WatchSettings}
 * with a 400 that names the field. The stored form has every default filled in. {@code formats} are a fetch's
 * ({@link ContentFormats}): what each version is stored with, as a crawl's formats decide for its pages. A watch has either an adaptive interval
 * (within its bounds) or a cron expression: a cron watch's stored {@code intervalSeconds} is the shortest spacing of
 * its runs, for the record; its schedule is the cron's.
 * <p>
 * {@code crawl} instead of {@code urls}: a crawl spec as {@code POST /v1/crawls} takes it ({@link CrawlSpec}), each
 * run of the watch being a crawl job of it; its {@code limit} (the pages a run stores and compares) is at most
 * {@code watches.maxUrls}, and that by default. Its pages are stored with the watch's {@code formats}, and its events go
 * to the watch's {@code webhook}: the crawl spec has neither.
 */
final class WatchSpec {
  static final String CHANGED_EVENT = "page.changed";
  static final int MAX_SELECTOR = 1_000;
  /** A 64-bit SimHash: a distance above 64 cannot happen. */
  static final int MAX_THRESHOLD = 64;
  static final int DEFAULT_THRESHOLD = 3;
  private static final Set<String> FIELDS = Set.of("urls", "crawl", "intervalSeconds", "minIntervalSeconds",
      "maxIntervalSeconds", "cron", "include", "exclude", "threshold", "formats", "webhook");
  private static final List<String> ADAPTIVE = List.of("intervalSeconds", "minIntervalSeconds", "maxIntervalSeconds");

  private WatchSpec() {}

  static JsonObject validate(JsonObject spec, WatchSettings s) {
    Fields.onlyKnown(spec, FIELDS, "watch field");
    JsonObject out = new JsonObject();
    if (spec.getValue("crawl") != null) {
      if (spec.getValue("urls") != null) {
        throw Failure.INVALID.exception("crawl: give either urls or crawl, not both");
      }
      out.put("crawl", crawl(spec.getValue("crawl"), s)).put("urls", new JsonArray());
    } else {
      if (!(spec.getValue("urls") instanceof JsonArray given) || given.isEmpty() || given.size() > s.maxUrls()) {
        throw Failure.INVALID.exception("urls: must be an array of 1 to " + s.maxUrls() + " URLs (watches.maxUrls), "
            + "or give a crawl spec as crawl instead");
      }
      Set<String> urls = new LinkedHashSet<>();
      for (int i = 0; i < given.size(); i++) {
        urls.add(WebUrl.parse("urls[" + i + "]", given.getValue(i)).toString());
      }
      out.put("urls", new JsonArray(urls.stream().toList()));
    }
    String cron = Fields.string(spec, "cron", WatchCron.MAX_LENGTH);
    if (cron != null) {
      for (String field : ADAPTIVE) {
        if (spec.getValue(field) != null) {
          throw Failure.INVALID.exception("cron: give either cron or " + field + ", not both (a cron watch runs at "
              + "the cron's times, with no adaptive interval)");
        }
      }
      long spacing = WatchCron.parse(cron).minSpacingSeconds();
      if (spacing < 0) {
        throw Failure.INVALID.exception("cron: '" + cron + "' never fires");
      }
      if (spacing < s.minIntervalSeconds()) {
        throw Failure.INVALID.exception("cron: '" + cron + "' runs as little as " + spacing + " s apart, closer than "
            + "watches.minIntervalSeconds (" + s.minIntervalSeconds() + " s) allows");
      }
      out.put("cron", cron.trim()).put("intervalSeconds", Math.min(spacing, Integer.MAX_VALUE));
    } else {
      adaptive(spec, s, out);
    }
    out.put("include", selector(spec, "include")).put("exclude", selector(spec, "exclude"))
        .put("threshold", orDefault(Fields.wholeNumber(spec, "threshold", 0, MAX_THRESHOLD), DEFAULT_THRESHOLD))
        .put("formats", new JsonArray(List.copyOf(ContentFormats.from(spec))));
    JsonObject webhook = Webhook.validate(spec.getValue("webhook"), Set.of(CHANGED_EVENT));
    return webhook == null ? out : out.put("webhook", webhook);
  }

  /**
   * The crawl of a site watch, as {@link CrawlSpec} validates a crawl's, every error naming its field under
   * {@code crawl.}; stored without {@code formats} and {@code webhook}, which are the watch's.
   */
  private static JsonObject crawl(Object given, WatchSettings s) {
    if (!(given instanceof JsonObject crawl)) {
      throw Failure.INVALID.exception("crawl: must be a crawl spec, a JSON object as POST /v1/crawls takes");
    }
    for (String own : List.of("formats", "webhook")) {
      if (crawl.getValue(own) != null) {
        throw Failure.INVALID.exception("crawl." + own + ": give the watch's own " + own + ", not the crawl's");
      }
    }
    JsonObject bounded = crawl.copy();
    if (bounded.getValue("limit") == null) {
      bounded.put("limit", s.maxUrls());
    } else if (bounded.getValue("limit") instanceof Number n && n.longValue() > s.maxUrls()) {
      throw Failure.INVALID.exception("crawl.limit: a run of a watch compares at most " + s.maxUrls()
          + " pages (watches.maxUrls), got " + n);
    }
    JsonObject out;
    try {
      out = CrawlSpec.from(bounded, s.maxUrls()).toJson();
    } catch (io.vertx.core.eventbus.ReplyException e) {
      throw Failure.INVALID.exception("crawl." + e.getMessage());
    }
    out.remove("formats");
    out.remove("webhook");
    return out;
  }

  private static void adaptive(JsonObject spec, WatchSettings s, JsonObject out) {
    long min = orDefault(Fields.wholeNumber(spec, "minIntervalSeconds", s.minIntervalSeconds(), s.maxIntervalSeconds()),
        s.minIntervalSeconds());
    long max = orDefault(Fields.wholeNumber(spec, "maxIntervalSeconds", min, s.maxIntervalSeconds()),
        Math.max(min, Math.min(86_400L, s.maxIntervalSeconds())));
    long interval = orDefault(Fields.wholeNumber(spec, "intervalSeconds", min, max), Math.max(min, Math.min(3_600L, max)));
    out.put("intervalSeconds", interval).put("minIntervalSeconds", min).put("maxIntervalSeconds", max);
  }

  private static long orDefault(Long value, long dflt) {
    return value == null ? dflt : value;
  }

  private static String selector(JsonObject spec, String field) {
    String css = Fields.string(spec, field, MAX_SELECTOR);
    if (css == null) {
      return null;
    }
    try {
      QueryParser.parse(css);
    } catch (Selector.SelectorParseException | IllegalArgumentException e) {
      throw Failure.INVALID.exception(field + ": is not a CSS selector jsoup understands (" + e.getMessage() + ")");
    }
    return css;
  }

  /**
   * The next interval, as Nutch's AdaptiveFetchSchedule: a run that found a change (or a removal) halves it, one that
   * found nothing changed stretches it by half, within the watch's bounds; a run that learnt nothing (first sight,
   * errors only) keeps it.
   */
  static long nextInterval(long interval, long min, long max, boolean changed, boolean unchanged) {
    if (changed) {
      return Math.max(min, interval / 2);
    }
    if (unchanged) {
      return Math.min(max, interval + interval / 2);
    }
    return interval;
  }
}
