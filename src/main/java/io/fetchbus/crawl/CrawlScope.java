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
 * path, or in the whole URL with {@code regexOnFullURL}; anchor them with ^ and $ to match all of it. Before the
 * patterns, {@code pathPrefix} keeps the links whose canonical path starts with it, and {@code maxPathDepth} those
 * whose path has at most that many segments more than the seed's (empty segments and {@code index.html} or
 * {@code index.php} are not counted, as Firecrawl counts them).
 *
 * <p>Patterns are the client's, so matching them is bounded ({@link RegexBudget}): every character the regex engine
 * reads is a step, counted for the link and for all the links of its page together. A link whose patterns run
 * out of steps is {@link Decision#UNDECIDED}: neither followed nor silently dropped, but reported by the caller.
 */
final class CrawlScope {
  /** What the scope says of a link. */
  enum Decision { FOLLOW, SKIP, UNDECIDED }

  /** A link's decision, with the link as the crawl would fetch it (null when it is not a URL the crawl can fetch). */
  record Judged(Decision decision, WebUrl url) {
    static final Judged SKIPPED = new Judged(Decision.SKIP, null);
  }

  private final String seedHost;
  private final String seedDomain;
  private final boolean subdomains;
  private final boolean external;
  private final boolean fullUrl;
  private final boolean ignoreQuery;
  private final List<Pattern> include;
  private final List<Pattern> exclude;
  private final String pathPrefix;
  /** The most segments a followed link's path may have; -1 for any. */
  private final int maxSegments;

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
    pathPrefix = spec.pathPrefix();
    maxSegments = spec.maxPathDepth() == null ? -1 : segments(pathOf(spec.url().key())) + spec.maxPathDepth();
  }

  /** The link as the crawl would fetch it, or null when the crawl does not follow it (or could not decide). */
  WebUrl follow(String link) {
    Judged judged = judge(link, RegexBudget.forLinks(1));
    return judged.decision() == Decision.FOLLOW ? judged.url() : null;
  }

  /** Whether the crawl follows {@code link}, spending steps of {@code budget} on its patterns. */
  Judged judge(String link, RegexBudget budget) {
    WebUrl url;
    try {
      url = WebUrl.parse("link", ignoreQuery ? withoutQuery(link) : link);
    } catch (ReplyException e) {
      return Judged.SKIPPED;
    }
    if (!inScope(url.host())) {
      return Judged.SKIPPED;
    }
    if (pathPrefix != null || maxSegments >= 0) {
      String path = pathOf(url.key());
      if (pathPrefix != null && !path.startsWith(pathPrefix) || maxSegments >= 0 && segments(path) > maxSegments) {
        return Judged.SKIPPED;
      }
    }
    if (exclude.isEmpty() && include.isEmpty()) {
      return new Judged(Decision.FOLLOW, url);
    }
    String subject = fullUrl ? url.key() : pathOf(url.key());
    RegexBudget.Link steps = budget.forLink();
    try {
      for (Pattern p : exclude) {
        if (p.matcher(steps.counting(subject)).find()) {
          return Judged.SKIPPED;
        }
      }
      if (include.isEmpty()) {
        return new Judged(Decision.FOLLOW, url);
      }
      for (Pattern p : include) {
        if (p.matcher(steps.counting(subject)).find()) {
          return new Judged(Decision.FOLLOW, url);
        }
      }
      return Judged.SKIPPED;
    } catch (RegexBudget.Exhausted e) {
      return new Judged(Decision.UNDECIDED, url);
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

  static String pathOf(String key) {
    String path = URI.create(key).getRawPath();
    return path == null || path.isEmpty() ? "/" : path;
  }

  /** The path's segments that count for {@code maxPathDepth}: not empty, and not an index page. */
  static int segments(String path) {
    int n = 0;
    for (String segment : path.split("/")) {
      if (!segment.isEmpty() && !segment.equals("index.html") && !segment.equals("index.php")) {
        n++;
      }
    }
    return n;
  }
}
