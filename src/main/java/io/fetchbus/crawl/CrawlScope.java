package io.fetchbus.crawl;

import crawlercommons.domains.EffectiveTldFinder;
import io.fetchbus.bus.WebUrl;
import io.vertx.core.eventbus.ReplyException;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Which discovered links a crawl follows: same host as the seed by default, its registrable domain with
 * {@code allowSubdomains}, anywhere with {@code allowExternalLinks}; then {@code excludePaths} (any match drops
 * the link) and {@code includePaths} (when given, one must match). Patterns are found anywhere in the URL's
 * path, or in the whole URL with {@code regexOnFullURL}; anchor them with ^ and $ to match all of it.
 */
final class CrawlScope {
  /** Steps a pattern may take on one link; a pathological pattern costs at most this, never a stalled event loop. */
  static final int REGEX_BUDGET = 200_000;

  private final String seedHost;
  private final String seedDomain;
  private final boolean subdomains;
  private final boolean external;
  private final boolean fullUrl;
  private final boolean ignoreQuery;
  private final List<Pattern> include;
  private final List<Pattern> exclude;

  CrawlScope(CrawlSpec spec) {
    seedHost = spec.url().host();
    String domain = EffectiveTldFinder.getAssignedDomain(seedHost, true, false);
    seedDomain = domain == null ? seedHost : domain.toLowerCase(Locale.ROOT);
    subdomains = spec.allowSubdomains();
    external = spec.allowExternalLinks();
    fullUrl = spec.regexOnFullURL();
    ignoreQuery = spec.ignoreQueryParameters();
    include = spec.includePaths().stream().map(Pattern::compile).toList();
    exclude = spec.excludePaths().stream().map(Pattern::compile).toList();
  }

  /** The link as the crawl would fetch it, or null when the crawl does not follow it. */
  WebUrl follow(String link) {
    WebUrl url;
    try {
      url = WebUrl.parse("link", ignoreQuery ? withoutQuery(link) : link);
    } catch (ReplyException e) {
      return null;
    }
    if (!inScope(url.host())) {
      return null;
    }
    String subject = fullUrl ? url.key() : pathOf(url.key());
    try {
      for (Pattern p : exclude) {
        if (p.matcher(new Budgeted(subject)).find()) {
          return null;
        }
      }
      if (include.isEmpty()) {
        return url;
      }
      for (Pattern p : include) {
        if (p.matcher(new Budgeted(subject)).find()) {
          return url;
        }
      }
      return null;
    } catch (Budgeted.Exhausted e) {
      return null;
    }
  }

  private boolean inScope(String host) {
    if (external || host.equals(seedHost)) {
      return true;
    }
    return subdomains && (host.equals(seedDomain) || host.endsWith("." + seedDomain));
  }

  private static String withoutQuery(String url) {
    int q = url.indexOf('?');
    return q < 0 ? url : url.substring(0, q);
  }

  private static String pathOf(String key) {
    String path = URI.create(key).getRawPath();
    return path == null || path.isEmpty() ? "/" : path;
  }

  /** The subject of a match, counting every character the regex engine reads. */
  private static final class Budgeted implements CharSequence {
    static final class Exhausted extends RuntimeException {
      Exhausted() {
        super(null, null, false, false);
      }
    }

    private final CharSequence text;
    private final int[] steps;

    Budgeted(CharSequence text) {
      this(text, new int[] {REGEX_BUDGET});
    }

    private Budgeted(CharSequence text, int[] steps) {
      this.text = text;
      this.steps = steps;
    }

    @Override
    public char charAt(int index) {
      if (--steps[0] < 0) {
        throw new Exhausted();
      }
      return text.charAt(index);
    }

    @Override
    public int length() {
      return text.length();
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return new Budgeted(text.subSequence(start, end), steps);
    }

    @Override
    public String toString() {
      return text.toString();
    }
  }
}
