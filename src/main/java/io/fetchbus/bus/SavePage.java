package io.fetchbus.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * What {@link Bus#PAGES_SAVE} takes: a fetched response with its extracted title, or a failed attempt
 * ({@code error} set, no body). Saving the same {@code fetchId} twice returns the first page.
 */
public record SavePage(String fetchId, String url, String finalUrl, Integer status, String contentType,
                       JsonObject headers, String sha256, Buffer body, String title, Instant fetchedAt,
                       Long elapsedMs, JsonObject timing, int retries, String error, String errorClass,
                       JsonObject extracted, HttpExchange exchange) {

  public static SavePage of(FetchResult r, String title) {
    return of(r, new JsonObject().put("title", title));
  }

  /** A fetched page with what {@link Bus#EXTRACT} read from it: title, metadata, text, markdown, links. */
  public static SavePage of(FetchResult r, JsonObject extracted) {
    return new SavePage(r.fetchId(), r.url(), r.finalUrl(), r.status(), r.contentType(), r.headers(), r.sha256(),
        r.body(), extracted.getString("title"), r.fetchedAt(), r.elapsedMs(), r.timing(), r.retries(), null, null,
        extracted, r.exchange());
  }

  public static SavePage failed(String url, Instant at, long elapsedMs, String error, String errorClass) {
    return new SavePage(null, url, null, null, null, new JsonObject(), null, null, null, at, elapsedMs,
        new JsonObject().put("totalMs", elapsedMs), 0, error, errorClass, new JsonObject(), null);
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("fetchId", fetchId)
        .put("url", url)
        .put("finalUrl", finalUrl)
        .put("status", status)
        .put("contentType", contentType)
        .put("headers", headers)
        .put("sha256", sha256)
        .put("body", body)
        .put("title", title)
        .put("fetchedAt", fetchedAt)
        .put("elapsedMs", elapsedMs)
        .put("timing", timing)
        .put("retries", retries)
        .put("error", error)
        .put("errorClass", errorClass)
        .put("extracted", extracted)
        .put("exchange", exchange == null ? null : exchange.toJson());
  }

  public static SavePage from(JsonObject j) {
    if (j == null) {
      throw Failure.INVALID.exception("body: must be a JSON object");
    }
    WebUrl.parse("url", j.getValue("url"));
    Instant at = j.getValue("fetchedAt") == null ? Instant.now() : j.getInstant("fetchedAt");
    Buffer body = j.getBuffer("body");
    String error = Fields.string(j, "error", 4096);
    if (body == null && error == null) {
      throw Failure.INVALID.exception("body: a page needs either a body or an error");
    }
    return new SavePage(Fields.string(j, "fetchId", 64), j.getString("url"), Fields.string(j, "finalUrl", 8192),
        j.getInteger("status"), Fields.string(j, "contentType", 1024), j.getJsonObject("headers", new JsonObject()),
        Fields.string(j, "sha256", 64), body, Fields.string(j, "title", 100_000), at, j.getLong("elapsedMs"),
        j.getJsonObject("timing", new JsonObject()), j.getInteger("retries", 0), error, Fields.string(j, "errorClass", 64),
        j.getJsonObject("extracted", new JsonObject()),
        j.getValue("exchange") instanceof JsonObject e ? HttpExchange.from(e) : null);
  }
}
