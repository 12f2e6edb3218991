package io.fetchbus.bus;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * A stored page: one fetch attempt of a URL. A failed attempt has an {@code error} and an {@code errorClass}
 * (the problem type's slug, e.g. {@code dns-failure}), and no status or body.
 * {@code fromCache} says whether this answer came from an earlier fetch instead of a new one.
 */
public record Page(long id, String fetchId, String url, String finalUrl, String host, Integer status,
                   String contentType, JsonObject headers, Long bytes, String sha256, String title,
                   Instant fetchedAt, Long elapsedMs, JsonObject timing, int retries, String error, String errorClass,
                   Instant revalidatedAt, JsonObject metadata, boolean fromCache) {

  public Page withFromCache(boolean cached) {
    return new Page(id, fetchId, url, finalUrl, host, status, contentType, headers, bytes, sha256, title,
        fetchedAt, elapsedMs, timing, retries, error, errorClass, revalidatedAt, metadata, cached);
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("id", id)
        .put("fetchId", fetchId)
        .put("url", url)
        .put("finalUrl", finalUrl)
        .put("host", host)
        .put("status", status)
        .put("contentType", contentType)
        .put("headers", headers)
        .put("bytes", bytes)
        .put("sha256", sha256)
        .put("title", title)
        .put("fetchedAt", fetchedAt)
        .put("elapsedMs", elapsedMs)
        .put("timing", timing)
        .put("retries", retries)
        .put("error", error)
        .put("errorClass", errorClass)
        .put("revalidatedAt", revalidatedAt)
        .put("metadata", metadata)
        .put("fromCache", fromCache);
  }

  public static Page from(JsonObject j) {
    return new Page(j.getLong("id"), j.getString("fetchId"), j.getString("url"), j.getString("finalUrl"),
        j.getString("host"), j.getInteger("status"), j.getString("contentType"), j.getJsonObject("headers"),
        j.getLong("bytes"), j.getString("sha256"), j.getString("title"), j.getInstant("fetchedAt"),
        j.getLong("elapsedMs"), j.getJsonObject("timing", new JsonObject()), j.getInteger("retries", 0),
        j.getString("error"), j.getString("errorClass"), j.getInstant("revalidatedAt"), j.getJsonObject("metadata"), j.getBoolean("fromCache", false));
  }
}
