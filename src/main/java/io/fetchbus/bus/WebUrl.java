package io.fetchbus.bus;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.net.IDN;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A validated absolute http(s) URL and its canonical key, the dedup key everywhere
 * (lower-case scheme and host, default port dropped, fragment dropped, percent-encoding normalised).
 */
public record WebUrl(URI uri, String key) {
  public static final int MAX_LENGTH = 2048;
  /**
   * URLs that clients sent lately, by the string they sent: a hot URL (the cache hits of {@code POST /v1/fetch}) is
   * parsed once, not at every request, where parsing was a tenth of a hit's CPU. At most 4 MB: each entry weighs its
   * strings (two bytes a character, twice: the URI keeps its parts) and a fixed 512 bytes for the objects around
   * them. Its upkeep runs on the calling thread. A WebUrl depends on nothing but its string, so it never goes stale.
   */
  private static final Cache<String, WebUrl> RECENT = Caffeine.newBuilder()
      .maximumWeight(4L << 20)
      .weigher((String raw, WebUrl url) -> 512 + 4 * (raw.length() + url.key().length()))
      .executor(Runnable::run)
      .build();

  /**
   * {@link #parse}, remembered: for the URLs clients send, which repeat. Links found in pages are parsed with
   * {@link #parse}, so that a crawl's stream of one-off URLs does not churn through this cache.
   */
  public static WebUrl parseRecent(String field, Object value) {
    WebUrl known = value instanceof String s && s.length() <= MAX_LENGTH ? RECENT.getIfPresent(s) : null;
    if (known != null) {
      return known;
    }
    WebUrl parsed = parse(field, value);
    RECENT.put((String) value, parsed);
    return parsed;
  }

  /**
   * Validates a client-supplied value. Characters browsers send percent-encoded ({@code |}, {@code {},
   * non-ASCII) are encoded the same way; anything else that is not a plain absolute http(s) URL is a 400
   * whose detail names {@code field}.
   */
  public static WebUrl parse(String field, Object value) {
    if (value == null) {
      throw invalid(field, "is required");
    }
    if (!(value instanceof String s)) {
      throw invalid(field, "must be a string");
    }
    if (s.isEmpty()) {
      throw invalid(field, "must not be empty");
    }
    if (s.length() > MAX_LENGTH) {
      throw invalid(field, "is longer than " + MAX_LENGTH + " characters");
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isWhitespace(c) || Character.isISOControl(c) || Character.isSpaceChar(c)) {
        throw invalid(field, "contains whitespace or a control character at index " + i);
      }
      if (Character.isSurrogate(c)) {
        // A lone surrogate has no UTF-8 form: encoding it would silently send '?' (%3F) instead.
        if (!Character.isHighSurrogate(c) || i + 1 == s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
          throw invalid(field, "contains an unpaired surrogate at index " + i);
        }
        i++;
      }
    }
    String authority = authority(s);
    if (authority.contains("[") && authority.indexOf('%', authority.indexOf('[')) >= 0) {
      // A zone (fe80::1%eth0) names an interface of whichever machine reads it: never a web address.
      throw invalid(field, "has an IPv6 zone id, which a web URL cannot have");
    }
    URI uri;
    try {
      uri = new URI(encodeUnsafe(asciiHost(s)));
    } catch (URISyntaxException | IllegalArgumentException e) {
      throw invalid(field, "is not a valid URL (" + (e instanceof URISyntaxException se ? se.getReason() : e.getMessage()) + ")");
    }
    String scheme = uri.getScheme();
    if (!uri.isAbsolute() || scheme == null) {
      throw invalid(field, "must be an absolute http or https URL");
    }
    scheme = scheme.toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw invalid(field, "must use http or https, not '" + scheme + "'");
    }
    if (uri.getRawUserInfo() != null) {
      throw invalid(field, "must not contain user information (user:password@)");
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw invalid(field, "has no valid host");
    }
    if (uri.getPort() == 0 || uri.getPort() > 65535) {
      throw invalid(field, "has an invalid port (" + uri.getPort() + ")");
    }
    if (uri.toString().length() > MAX_LENGTH) {
      throw invalid(field, "is longer than " + MAX_LENGTH + " characters once percent-encoded");
    }
    try {
      return new WebUrl(uri, canonical(uri));
    } catch (IllegalArgumentException e) {
      // IDN.toASCII refuses some host names, e.g. a label over 63 characters.
      throw invalid(field, "has an invalid host name (" + e.getMessage() + ")");
    }
  }

  /** Resolves a redirect target against this URL, with the same validation ({@code field} names it in errors). */
  public WebUrl resolve(String field, String reference) {
    try {
      return parse(field, uri.resolve(new URI(encodeUnsafe(asciiHost(reference)))).toString());
    } catch (URISyntaxException e) {
      throw invalid(field, "is not a valid URL (" + e.getReason() + ")");
    } catch (IllegalArgumentException e) {
      throw invalid(field, "is not a valid URL (" + e.getMessage() + ")");
    }
  }

  public String host() {
    return uri.getHost().toLowerCase(Locale.ROOT);
  }

  /**
   * The origin as Fetchbus keys politeness, turns and log lines by it: lower-case scheme, host without a trailing dot,
   * and the effective port ({@code https://example.com:443}). Never the path or the query, which may hold a token.
   */
  public String origin() {
    String host = host().endsWith(".") ? host().substring(0, host().length() - 1) : host();
    return uri.getScheme().toLowerCase(Locale.ROOT) + "://" + host + ":" + port();
  }

  /** The port a connection goes to: the URL's own, or its scheme's default (443 for https, 80 for http). */
  public int port() {
    return uri.getPort() > 0 ? uri.getPort() : (uri.getScheme().equalsIgnoreCase("https") ? 443 : 80);
  }

  /**
   * The host as the URL writes it and its port only when the URL names one ({@code example.com},
   * {@code example.com:8443}, {@code [::1]:8080}): the Host header a request sends, so also how a connection's errors
   * name the server. Unlike {@link #origin()} it is not a key: {@code :80} on an http URL stays when written.
   */
  public String hostAndPort() {
    return uri.getPort() > 0 ? uri.getHost() + ":" + uri.getPort() : uri.getHost();
  }

  /**
   * The scheme and authority as the URL writes them ({@code https://example.com:8443}, no default port added): the
   * root that the same site's robots.txt, sitemaps and path prefixes are resolved against. It is part of the
   * frontier keys of sitemap entries, so it keeps this form; to key a host's politeness, use {@link #origin()}.
   */
  public String siteRoot() {
    return siteRoot(uri);
  }

  /** {@link #siteRoot()} of a URI that is not a {@code WebUrl}, e.g. a robots.txt URL held as a string. */
  public static String siteRoot(URI uri) {
    return uri.getScheme() + "://" + uri.getRawAuthority();
  }

  @Override
  public String toString() {
    return uri.toString();
  }

  private static String canonical(URI uri) {
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
    String host = uri.getHost().toLowerCase(Locale.ROOT);
    if (!host.startsWith("[")) {
      host = IDN.toASCII(host, IDN.ALLOW_UNASSIGNED);
    }
    int port = uri.getPort();
    boolean defaultPort = port == -1 || (scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443);
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : normalisePercent(dotSegmentsRemoved(uri));
    StringBuilder sb = new StringBuilder(scheme).append("://").append(host);
    if (!defaultPort) {
      sb.append(':').append(port);
    }
    sb.append(path);
    if (uri.getRawQuery() != null) {
      sb.append('?').append(normalisePercent(uri.getRawQuery()));
    }
    return sb.toString();
  }

  /** The path with {@code .} and {@code ..} segments resolved (RFC 3986 5.2.4); {@code ..} never climbs above the root. */
  private static String dotSegmentsRemoved(URI uri) {
    String path = uri.getRawPath();
    if (!path.contains(".")) {
      return path;
    }
    // Segment by segment, keeping empty segments: "a//b" is not "a/b" (java.net.URI.normalize merges them).
    String[] segments = path.split("/", -1);
    java.util.ArrayDeque<String> out = new java.util.ArrayDeque<>();
    for (int i = 1; i < segments.length; i++) {
      String s = segments[i];
      boolean last = i == segments.length - 1;
      if (s.equals(".")) {
        if (last) {
          out.addLast("");
        }
      } else if (s.equals("..")) {
        out.pollLast();
        if (last) {
          out.addLast("");
        }
      } else {
        out.addLast(s);
      }
    }
    return "/" + String.join("/", out);
  }

  /** Upper-cases percent-escapes and decodes those of unreserved characters (RFC 3986 section 6.2.2). */
  private static String normalisePercent(String raw) {
    if (raw.indexOf('%') < 0) {
      return raw;
    }
    StringBuilder sb = new StringBuilder(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%' && i + 2 < raw.length() && Character.digit(raw.charAt(i + 1), 16) >= 0
          && Character.digit(raw.charAt(i + 2), 16) >= 0) {
        int v = Integer.parseInt(raw.substring(i + 1, i + 3), 16);
        if (isUnreserved((char) v)) {
          sb.append((char) v);
        } else {
          sb.append('%').append(raw.substring(i + 1, i + 3).toUpperCase(Locale.ROOT));
        }
        i += 2;
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  private static boolean isUnreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
  }

  /** An internationalised host name in its ASCII (punycode) form, as browsers send it: {@code bücher.example -> xn--bcher-kva.example}. */
  private static String asciiHost(String s) {
    int start = s.indexOf("://");
    if (start < 0) {
      return s;
    }
    start += 3;
    String authority = authority(s);
    int end = start + authority.length();
    if (authority.chars().allMatch(c -> c < 0x80) || authority.contains("[")) {
      return s;
    }
    int at = authority.lastIndexOf('@');
    int colon = authority.lastIndexOf(':');
    String host = authority.substring(at + 1, colon > at ? colon : authority.length());
    String rest = colon > at ? authority.substring(colon) : "";
    return s.substring(0, start) + authority.substring(0, at + 1) + IDN.toASCII(host, IDN.ALLOW_UNASSIGNED) + rest
        + s.substring(end);
  }

  /** What follows {@code ://} up to the path, query or fragment; empty when there is no {@code ://}. */
  private static String authority(String s) {
    int start = s.indexOf("://");
    if (start < 0) {
      return "";
    }
    start += 3;
    int end = start;
    while (end < s.length() && "/?#".indexOf(s.charAt(end)) < 0) {
      end++;
    }
    return s.substring(start, end);
  }

  /** Percent-encodes (as UTF-8) the characters a browser would encode before sending: non-ASCII and a few symbols. */
  private static String encodeUnsafe(String s) {
    StringBuilder sb = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean unsafe = c > 0x7E || "\"<>\\^`{|}".indexOf(c) >= 0;
      if (unsafe && sb == null) {
        sb = new StringBuilder(s.length() + 16).append(s, 0, i);
      }
      if (sb != null) {
        if (unsafe) {
          int cp = s.codePointAt(i);
          for (byte b : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) {
            sb.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xF, 16)))
                .append(Character.toUpperCase(Character.forDigit(b & 0xF, 16)));
          }
          i += Character.charCount(cp) - 1;
        } else {
          sb.append(c);
        }
      }
    }
    return sb == null ? s : sb.toString();
  }

  private static RuntimeException invalid(String field, String problem) {
    return Failure.INVALID.exception(field + ": " + problem);
  }
}
