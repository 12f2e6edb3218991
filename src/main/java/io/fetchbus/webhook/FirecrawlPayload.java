package io.fetchbus.webhook;

import io.fetchbus.bus.FirecrawlDocument;
import io.fetchbus.bus.WebhookDelivery;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A webhook event as Firecrawl sends it (v1 and v2 alike): {@code {"success", "type", "id", "webhookId", "data",
 * "metadata", "error"?}}, {@code type} being {@code crawl.<event>} or {@code batch_scrape.<event>}, {@code id} the
 * job, {@code webhookId} the delivery (the same on every attempt), {@code data} the page's document for a page event
 * and empty otherwise, {@code metadata} the webhook's own.
 */
final class FirecrawlPayload {
  private static final List<String> CONTENT = List.of("markdown", "html", "rawHtml", "links");

  private FirecrawlPayload() {}

  /**
   * The body, at most {@link WebhookDelivery#MAX_BODY_CHARS} characters: a page too large for that is sent with its
   * metadata only and a {@code warning} (the job's status has the content).
   */
  static String of(String kind, String event, String jobId, String deliveryId, JsonObject data,
                   Supplier<JsonObject> document, JsonObject metadata) {
    JsonArray docs = new JsonArray();
    if ("page".equals(event)) {
      docs.add(document != null ? document.get() : FirecrawlDocument.of(data, data.getString("url"), Set.of()));
    }
    JsonObject body = new JsonObject()
        .put("success", !"failed".equals(event))
        .put("type", ("batch".equals(kind) ? "batch_scrape" : "crawl") + "." + event)
        .put("id", jobId)
        .put("webhookId", deliveryId)
        .put("data", docs)
        .put("metadata", metadata);
    if ("failed".equals(event)) {
      body.put("error", "the job failed and cannot go on; its errors list what went wrong");
    }
    String encoded = body.encode();
    if (encoded.length() <= WebhookDelivery.MAX_BODY_CHARS || docs.isEmpty()) {
      return encoded;
    }
    JsonObject doc = docs.getJsonObject(0);
    CONTENT.forEach(doc::remove);
    doc.put("warning", "the page's content is left out: with it this delivery would be over "
        + WebhookDelivery.MAX_BODY_CHARS + " characters; the job's status has it");
    return body.encode();
  }
}
