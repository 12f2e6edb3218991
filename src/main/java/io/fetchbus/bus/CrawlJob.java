package io.fetchbus.bus;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;

/**
 * A crawl or batch job as clients see it. The counts are frontier entries by state: {@code completed} pages
 * stored, {@code failed} URLs discarded after their last attempt, {@code robotsBlocked} URLs robots.txt
 * disallowed, {@code skipped} URLs never fetched because the limit was reached or the job was cancelled,
 * {@code queued} and {@code inProgress} the work left. {@code total} is their sum.
 */
public record CrawlJob(String id, String kind, String status, JsonObject spec, int queued, int inProgress,
                       int completed, int failed, int robotsBlocked, int skipped, Instant createdAt,
                       Instant startedAt, Instant finishedAt) {
  public static final String QUEUED = "queued";
  public static final String RUNNING = "running";
  public static final String COMPLETED = "completed";
  public static final String CANCELLED = "cancelled";
  public static final String FAILED = "failed";

  public int total() {
    return queued + inProgress + completed + failed + robotsBlocked + skipped;
  }

  public boolean finished() {
    return COMPLETED.equals(status) || CANCELLED.equals(status) || FAILED.equals(status);
  }

  /** Pages stored per second of running time, up to now or to the end of the job. */
  public double pagesPerSecond(Instant now) {
    if (startedAt == null) {
      return 0;
    }
    long ms = Duration.between(startedAt, finishedAt == null ? now : finishedAt).toMillis();
    return ms <= 0 ? 0 : Math.round(completed * 1000_0.0 / ms) / 10.0;
  }

  public JsonObject toJson() {
    String base = "crawl".equals(kind) ? "/v1/crawls/" : "/v1/batches/";
    return new JsonObject()
        .put("id", id)
        .put("kind", kind)
        .put("status", status)
        .put("statusUrl", base + id)
        .put("total", total())
        .put("completed", completed)
        .put("failed", failed)
        .put("robotsBlocked", robotsBlocked)
        .put("skipped", skipped)
        .put("queued", queued)
        .put("inProgress", inProgress)
        .put("pagesPerSecond", pagesPerSecond(Instant.now()))
        .put("createdAt", createdAt)
        .put("startedAt", startedAt)
        .put("finishedAt", finishedAt)
        .put("spec", withoutSecrets(spec));
  }

  /**
   * The spec as clients may see it: a webhook's secret, header values and query values (often a token) are
   * credentials, shown masked.
   */
  public static JsonObject withoutSecrets(JsonObject spec) {
    if (spec == null || !(spec.getValue("webhook") instanceof JsonObject hook)) {
      return spec;
    }
    JsonObject shown = spec.copy();
    JsonObject masked = shown.getJsonObject("webhook");
    if (masked.getValue("url") instanceof String url) {
      masked.put("url", UrlSecrets.masked(url));
    }
    if (masked.containsKey("secret")) {
      masked.put("secret", "***");
    }
    JsonObject headers = masked.getJsonObject("headers", new JsonObject());
    headers.fieldNames().forEach(name -> headers.put(name, "***"));
    return shown;
  }

  public static CrawlJob from(JsonObject j) {
    return new CrawlJob(j.getString("id"), j.getString("kind"), j.getString("status"), j.getJsonObject("spec"),
        j.getInteger("queued", 0), j.getInteger("inProgress", 0), j.getInteger("completed", 0),
        j.getInteger("failed", 0), j.getInteger("robotsBlocked", 0), j.getInteger("skipped", 0),
        j.getInstant("createdAt"), j.getInstant("startedAt"), j.getInstant("finishedAt"));
  }
}
