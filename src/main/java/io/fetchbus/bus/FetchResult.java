package io.fetchbus.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * One completed upstream response. {@code timing} holds {@code dnsMs}, {@code ttfbMs} (of the last hop) and
 * {@code totalMs}; {@code retries} counts the attempts after the first. {@code fetchId} identifies the upstream fetch, so that every request
 * served from it (cache hits, joined in-flight requests) stores it at most once. The body travels as a
 * {@code Buffer} inside the JSON (base64 on the wire).
 */
public record FetchResult(String fetchId, String url, String finalUrl, int status, String contentType,
                          JsonObject headers, long bytes, String sha256, long elapsedMs, Instant fetchedAt,
                          boolean fromCache, JsonObject timing, int retries, Buffer body,
                          HttpExchange exchange) {

  public FetchResult withFromCache(boolean cached) {
    return cached == fromCache ? this : new FetchResult(fetchId, url, finalUrl, status, contentType, headers, bytes,
        sha256, elapsedMs, fetchedAt, cached, timing, retries, body, exchange);
  }

  public long ageSeconds(Instant now) {
    return Math.max(0, now.getEpochSecond() - fetchedAt.getEpochSecond());
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("fetchId", fetchId)
        .put("url", url)
        .put("finalUrl", finalUrl)
        .put("status", status)
        .put("contentType", contentType)
        .put("headers", headers)
        .put("bytes", bytes)
        .put("sha256", sha256)
        .put("elapsedMs", elapsedMs)
        .put("fetchedAt", fetchedAt)
        .put("fromCache", fromCache)
        .put("timing", timing)
        .put("retries", retries)
        .put("body", body)
        .put("exchange", exchange == null ? null : exchange.toJson());
  }

  public static FetchResult from(JsonObject j) {
    return new FetchResult(j.getString("fetchId"), j.getString("url"), j.getString("finalUrl"),
        j.getInteger("status"), j.getString("contentType"), j.getJsonObject("headers", new JsonObject()),
        j.getLong("bytes"), j.getString("sha256"), j.getLong("elapsedMs"), j.getInstant("fetchedAt"),
        j.getBoolean("fromCache", false), j.getJsonObject("timing", new JsonObject()), j.getInteger("retries", 0),
        j.getBuffer("body"), HttpExchange.from(j.getJsonObject("exchange")));
  }
}
