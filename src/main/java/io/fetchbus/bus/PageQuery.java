package io.fetchbus.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code {"url"?, "host"?, "jobId"?, "after"?, "limit"?, "maxAgeSeconds"?, "succeeded"?, "latest"?, "formats"?,
 * "oldestFirst"?, "skip"?, "afterId"?}}: pages newest first, unless {@code oldestFirst}. {@code jobId} keeps the pages a crawl or batch job stored. {@code formats} ({@link ContentFormats})
 * adds content to each record; an answer with content holds at most {@link #MAX_CONTENT_BYTES} of it (at least one
 * record), so it may hold fewer records than {@code limit}, with {@code next} to go on from.
 * {@code after} is the opaque cursor a previous answer returned as {@code next}; {@code succeeded} keeps only
 * pages with a body; {@code maxAgeSeconds} keeps only pages fetched at most that long ago. {@code latest} (default
 * true) keeps each URL's newest page only, newest among the pages {@code jobId} and {@code succeeded} keep (a
 * failed attempt, when it is the newest); false lists every copy, one per fetch. {@code oldestFirst} lists in the
 * order pages were stored, so that pages stored after a cursor was given out come after it (a job still running
 * appends to the end); {@code skip} leaves out that many records first (after the cursor, if any). {@code afterId}
 * is a page id to go on after, as the cursor does, for a caller that follows a listing as it grows (it has the ids).
 */
public record PageQuery(WebUrl url, String host, String after, int limit, Long maxAgeSeconds, boolean succeeded,
                        String jobId, boolean latest, Set<String> formats, boolean oldestFirst, int skip,
                        Long afterId) {
  public static final int DEFAULT_LIMIT = 50;
  public static final int MAX_LIMIT = 500;
  public static final int MAX_SKIP = 1_000_000;
  /** The content (text, markdown, links, html) one answer carries at most, whatever its limit. */
  public static final long MAX_CONTENT_BYTES = 4L << 20;

  public static PageQuery from(JsonObject j) {
    if (j == null) {
      j = new JsonObject();
    }
    WebUrl url = j.getValue("url") == null ? null : WebUrl.parse("url", j.getValue("url"));
    String host = Fields.string(j, "host", 255);
    Long limit = Fields.wholeNumber(j, "limit", 1, MAX_LIMIT);
    Long skip = Fields.wholeNumber(j, "skip", 0, MAX_SKIP);
    return new PageQuery(url, host == null ? null : host.toLowerCase(Locale.ROOT), Fields.string(j, "after", 64),
        limit == null ? DEFAULT_LIMIT : limit.intValue(),
        Fields.wholeNumber(j, "maxAgeSeconds", 0, FetchRequest.MAX_AGE_LIMIT), Fields.bool(j, "succeeded", false),
        jobId(j), Fields.bool(j, "latest", true), ContentFormats.from(j), Fields.bool(j, "oldestFirst", false),
        skip == null ? 0 : skip.intValue(), Fields.wholeNumber(j, "afterId", 0, Long.MAX_VALUE));
  }

  private static String jobId(JsonObject j) {
    java.util.UUID id = Fields.uuid(j, "jobId", "a job id (a UUID)");
    return id == null ? null : id.toString();
  }

  /** The same query, going on after the cursor {@code next}. */
  public PageQuery after(String next) {
    return new PageQuery(url, host, next, limit, maxAgeSeconds, succeeded, jobId, latest, formats, oldestFirst, 0, null);
  }

  /** The newest page of a URL that has a body, of any age (the first of every copy: no per-URL filter needed). */
  public static PageQuery newestCopy(WebUrl url) {
    return new PageQuery(url, null, null, 1, null, true, null, false, ContentFormats.DEFAULT, false, 0, null);
  }

  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("limit", limit);
    if (url != null) {
      j.put("url", url.toString());
    }
    if (host != null) {
      j.put("host", host);
    }
    if (after != null) {
      j.put("after", after);
    }
    if (maxAgeSeconds != null) {
      j.put("maxAgeSeconds", maxAgeSeconds);
    }
    if (succeeded) {
      j.put("succeeded", true);
    }
    if (jobId != null) {
      j.put("jobId", jobId);
    }
    if (!formats.equals(ContentFormats.DEFAULT)) {
      j.put("formats", new JsonArray(List.copyOf(formats)));
    }
    if (oldestFirst) {
      j.put("oldestFirst", true);
    }
    if (skip > 0) {
      j.put("skip", skip);
    }
    if (afterId != null) {
      j.put("afterId", afterId);
    }
    return j.put("latest", latest);
  }
}
