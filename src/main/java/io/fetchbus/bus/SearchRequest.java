package io.fetchbus.bus;

import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.UUID;

/**
 * {@code {"q", "host"?, "jobId"?, "limit"?, "after"?}}: the stored pages that match {@code q}, most relevant first.
 * {@code q} is web-search syntax (as PostgreSQL's {@code websearch_to_tsquery}, see SearchQuery): every word must appear,
 * {@code "quoted words"} as a phrase, {@code or} between alternatives, and {@code -word} excludes. {@code host}
 * and {@code jobId} narrow the search to one host or to the pages of one crawl job; {@code after} is the opaque
 * cursor a previous answer returned as {@code next}. {@code latest} (default true) searches each URL's newest copy
 * only (its newest page with a body, within the job when {@code jobId} is given), so a page fetched again is found
 * once, and by what it says now; false searches every copy.
 */
public record SearchRequest(String q, String host, UUID jobId, int limit, String after, boolean latest) {
  public static final int DEFAULT_LIMIT = 10;
  public static final int MAX_LIMIT = 100;
  public static final int MAX_QUERY_LENGTH = 500;

  public static SearchRequest from(JsonObject j) {
    if (j == null) {
      j = new JsonObject();
    }
    String q = Fields.string(j, "q", MAX_QUERY_LENGTH);
    if (q == null || q.isBlank()) {
      throw Failure.INVALID.exception("q: is required: the words to search for");
    }
    String host = Fields.string(j, "host", 255);
    // PostgreSQL text cannot hold NUL: refused here, it is a 400 instead of a failed query.
    if (q.indexOf('\0') >= 0 || (host != null && host.indexOf('\0') >= 0)) {
      throw Failure.INVALID.exception((q.indexOf('\0') >= 0 ? "q" : "host") + ": must not contain NUL characters");
    }
    UUID jobId = Fields.uuid(j, "jobId", "a UUID");
    Long limit = Fields.wholeNumber(j, "limit", 1, MAX_LIMIT);
    return new SearchRequest(q, host == null ? null : host.toLowerCase(Locale.ROOT),
        jobId, limit == null ? DEFAULT_LIMIT : limit.intValue(),
        Fields.string(j, "after", 64), Fields.bool(j, "latest", true));
  }

  /** The newest copy of each URL only: what a search is unless told otherwise. */
  public SearchRequest(String q, String host, UUID jobId, int limit, String after) {
    this(q, host, jobId, limit, after, true);
  }

  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("q", q).put("limit", limit);
    if (host != null) {
      j.put("host", host);
    }
    if (jobId != null) {
      j.put("jobId", jobId.toString());
    }
    if (after != null) {
      j.put("after", after);
    }
    return j.put("latest", latest);
  }
}
