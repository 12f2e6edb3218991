package io.fetchbus.firecrawl;

import io.fetchbus.bus.Failure;
import io.vertx.core.json.JsonObject;
import java.util.Set;

/**
 * Firecrawl's {@code webhook} field, a URL or {@code {"url", "headers"?, "metadata"?, "events"?}}, as the webhook of a
 * Fetchbus job in the firecrawl format: delivered by the crawl verticles' webhook sender (signed, retried, behind the
 * destination guard) with Firecrawl's payloads. Its event names are Fetchbus's own: started, page, completed, failed.
 */
final class FirecrawlWebhook {
  private static final Set<String> FIELDS = Set.of("url", "headers", "metadata", "events");

  private FirecrawlWebhook() {}

  static JsonObject of(Object value) {
    JsonObject given;
    if (value instanceof String url) {
      given = new JsonObject().put("url", url);
    } else if (value instanceof JsonObject o) {
      given = o;
    } else {
      throw Failure.INVALID.exception("webhook: must be a URL or an object with a url");
    }
    for (String name : given.fieldNames()) {
      if (!FIELDS.contains(name)) {
        throw Failure.INVALID.exception("webhook." + name + ": not a webhook option (known: events, headers,"
            + " metadata, url)");
      }
    }
    JsonObject hook = new JsonObject().put("url", given.getValue("url")).put("format", "firecrawl");
    for (String field : new String[] {"headers", "metadata", "events"}) {
      if (given.getValue(field) != null) {
        hook.put(field, given.getValue(field));
      }
    }
    return hook;
  }
}
