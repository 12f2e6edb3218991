package io.fetchbus.bus;

import java.util.regex.Pattern;

/**
 * URLs as records may show them when a URL can carry a credential: a webhook's {@code ?token=...}, or the
 * {@code user:password@} of a URL a client sent by mistake. Names stay readable; values become {@code ***}.
 */
public final class UrlSecrets {
  /** {@code scheme://user:password@}: the user information, up to the last '@' before the path. */
  private static final Pattern USER_INFO = Pattern.compile("^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@");

  private UrlSecrets() {}

  /** The URL without its user information: {@code http://***@host/}. */
  public static String withoutUserInfo(String url) {
    return USER_INFO.matcher(url).replaceFirst("$1***@");
  }

  /** The URL with its user information and every query value masked: {@code /hook?token=***&v=***}. */
  public static String masked(String url) {
    String shown = withoutUserInfo(url);
    int query = shown.indexOf('?');
    if (query < 0) {
      return shown;
    }
    int fragment = shown.indexOf('#', query);
    String end = fragment < 0 ? "" : shown.substring(fragment);
    String[] params = shown.substring(query + 1, fragment < 0 ? shown.length() : fragment).split("&", -1);
    StringBuilder out = new StringBuilder(shown.substring(0, query + 1));
    for (int i = 0; i < params.length; i++) {
      int eq = params[i].indexOf('=');
      out.append(i == 0 ? "" : "&").append(eq < 0 ? params[i] : params[i].substring(0, eq + 1) + "***");
    }
    return out.append(end).toString();
  }
}
