package io.fetchbus.bus;

import io.vertx.core.json.JsonObject;

/**
 * {@code {"url", "maxAgeSeconds"?, "onlyIfCached"?}}. With {@code maxAgeSeconds} a cached copy at most that
 * old answers (with {@code fromCache: true}); without it the URL is fetched, though a request joins a fetch
 * of the same URL already in flight. {@code onlyIfCached} never fetches: it answers with a cached copy (of any
 * age unless {@code maxAgeSeconds} is given) or a fetch in flight, or fails with 404. {@code obeyRobots}
 * (default true) checks robots.txt first; {@code maxConcurrency} lowers the per-host limit for this request.
 * {@code ifNoneMatch} / {@code ifModifiedSince} make it conditional: never cached or joined, and a 304 result
 * (without a body) says the copy those validators came from is current.
 */
public record FetchRequest(WebUrl url, Long maxAgeSeconds, boolean onlyIfCached, boolean obeyRobots,
                           Integer maxConcurrency, String ifNoneMatch, String ifModifiedSince) {
  /** Ten years: more than any cache keeps anything. */
  public static final long MAX_AGE_LIMIT = 315_360_000L;

  public static FetchRequest from(JsonObject json) {
    if (json == null) {
      throw Failure.INVALID.exception("body: must be a JSON object");
    }
    Long maxConcurrency = Fields.wholeNumber(json, "maxConcurrency", 1, 1000);
    return new FetchRequest(WebUrl.parseRecent("url", json.getValue("url")),
        Fields.wholeNumber(json, "maxAgeSeconds", 0, MAX_AGE_LIMIT),
        Fields.bool(json, "onlyIfCached", false), Fields.bool(json, "obeyRobots", true),
        maxConcurrency == null ? null : maxConcurrency.intValue(), validator(json, "ifNoneMatch"),
        validator(json, "ifModifiedSince"));
  }

  /** A header value we may send upstream: at most 1024 visible characters, no control characters. */
  public static boolean usableValidator(String value) {
    return value != null && value.length() <= 1024 && value.chars().allMatch(c -> c >= 0x20 && c != 0x7F);
  }

  private static String validator(JsonObject json, String field) {
    String value = Fields.string(json, field, 1024);
    if (value != null && !usableValidator(value)) {
      throw Failure.INVALID.exception(field + ": must not contain control characters");
    }
    return value;
  }

  /** What a REST client may ask: {@code onlyIfCached} and the validators are for bus clients only. */
  public FetchRequest withoutBusOptions() {
    return new FetchRequest(url, maxAgeSeconds, false, obeyRobots, maxConcurrency, null, null);
  }

  /** This request, with {@code maxAgeSeconds} set to {@code seconds} unless it has one (or {@code seconds} is null). */
  public FetchRequest withDefaultMaxAge(Long seconds) {
    return maxAgeSeconds != null || seconds == null ? this
        : new FetchRequest(url, seconds, onlyIfCached, obeyRobots, maxConcurrency, ifNoneMatch, ifModifiedSince);
  }

  public FetchRequest onlyIfCached(boolean only) {
    return new FetchRequest(url, maxAgeSeconds, only, obeyRobots, maxConcurrency, ifNoneMatch, ifModifiedSince);
  }

  public FetchRequest withoutMaxAge() {
    return new FetchRequest(url, null, false, obeyRobots, maxConcurrency, null, null);
  }

  /** A conditional fetch of a stored copy: a 304 answer (no body) means the copy is still current. */
  public FetchRequest revalidating(String etag, String lastModified) {
    return new FetchRequest(url, null, false, obeyRobots, maxConcurrency, etag, lastModified);
  }

  public boolean conditional() {
    return ifNoneMatch != null || ifModifiedSince != null;
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("url", url.toString());
    if (maxAgeSeconds != null) {
      json.put("maxAgeSeconds", maxAgeSeconds);
    }
    if (onlyIfCached) {
      json.put("onlyIfCached", true);
    }
    if (!obeyRobots) {
      json.put("obeyRobots", false);
    }
    if (maxConcurrency != null) {
      json.put("maxConcurrency", maxConcurrency);
    }
    if (ifNoneMatch != null) {
      json.put("ifNoneMatch", ifNoneMatch);
    }
    if (ifModifiedSince != null) {
      json.put("ifModifiedSince", ifModifiedSince);
    }
    return json;
  }
}
