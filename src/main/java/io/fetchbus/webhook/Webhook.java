package io.fetchbus.webhook;

import io.fetchbus.bus.Failure;
import io.fetchbus.bus.WebUrl;
import io.fetchbus.bus.WebhookDelivery;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.Set;

/**
 * A job's webhook: {@code {"url", "headers"?, "events"?, "secret"?}}. Every delivery is a POST of JSON; with a
 * secret it carries an HMAC-SHA256 signature of the body. The target goes through the destination guard, as
 * fetches do. {@link WebhookSender} delivers it. Headers that frame the request (Host, Content-Length...) and
 * the {@code X-Fetchbus-*} headers are Fetchbus's to set, not the job's.
 * <p>
 * Over the bus (not in the REST contract), {@code "format": "firecrawl"} makes the deliveries Firecrawl's webhook
 * payloads, for jobs started through Firecrawl's routes, with its {@code "metadata"} (an object of strings) echoed
 * in each: the same sender, retries and guard, another body.
 */
public final class Webhook {
  static final Set<String> EVENTS = Set.of("started", "page", "completed", "failed");
  static final String FIRECRAWL = "firecrawl";
  private static final Set<String> FIELDS = Set.of("url", "headers", "events", "secret", "format", "metadata");
  private static final int MAX_HEADERS = 20;
  private static final int MAX_METADATA = 20;
  private static final int MAX_METADATA_VALUE = 1000;

  private Webhook() {}

  /** The webhook with its defaults (every event), or null when there is none; 400 naming the bad field. */
  public static JsonObject validate(Object value) {
    return validate(value, EVENTS);
  }

  /** The same, for a webhook whose events are {@code known} (a watch's: {@code page.changed}). */
  public static JsonObject validate(Object value, Set<String> known) {
    if (value == null) {
      return null;
    }
    if (!(value instanceof JsonObject j)) {
      throw Failure.INVALID.exception("webhook: must be an object with a url");
    }
    for (String name : j.fieldNames()) {
      if (!FIELDS.contains(name)) {
        throw Failure.INVALID.exception("webhook." + name + ": is not a webhook option (known: events, headers, secret, url)");
      }
    }
    WebUrl url = WebUrl.parse("webhook.url", j.getValue("url"));
    JsonObject headers = new JsonObject();
    Object h = j.getValue("headers");
    if (h != null) {
      if (!(h instanceof JsonObject given) || given.size() > MAX_HEADERS) {
        throw Failure.INVALID.exception("webhook.headers: must be an object of at most " + MAX_HEADERS + " string values");
      }
      for (String name : given.fieldNames()) {
        String problem = name.toLowerCase(Locale.ROOT).startsWith("x-fetchbus-") ? "is set by Fetchbus itself"
            : WebhookDelivery.headerProblem(name, given.getValue(name));
        if (problem != null) {
          throw Failure.INVALID.exception("webhook.headers." + name + ": " + problem);
        }
        headers.put(name, given.getString(name));
      }
    }
    JsonArray events = new JsonArray();
    Object e = j.getValue("events");
    if (e == null) {
      known.stream().sorted().forEach(events::add);
    } else if (e instanceof JsonArray given && !given.isEmpty()) {
      for (int i = 0; i < given.size(); i++) {
        if (!(given.getValue(i) instanceof String ev) || !known.contains(ev)) {
          throw Failure.INVALID.exception("webhook.events[" + i + "]: must be one of "
              + String.join(", ", new java.util.TreeSet<>(known)));
        }
        if (!events.contains(ev)) {
          events.add(ev);
        }
      }
    } else {
      throw Failure.INVALID.exception("webhook.events: must be a non-empty array of event names");
    }
    Object secret = j.getValue("secret");
    if (secret != null && (!(secret instanceof String s) || s.isEmpty() || s.length() > 256)) {
      throw Failure.INVALID.exception("webhook.secret: must be a string of 1 to 256 characters");
    }
    JsonObject out = new JsonObject().put("url", url.toString()).put("headers", headers).put("events", events);
    if (secret != null) {
      out.put("secret", secret);
    }
    Object format = j.getValue("format");
    if (format != null && !"fetchbus".equals(format) && !FIRECRAWL.equals(format)) {
      throw Failure.INVALID.exception("webhook.format: must be fetchbus or firecrawl");
    }
    if (FIRECRAWL.equals(format)) {
      out.put("format", FIRECRAWL).put("metadata", metadata(j.getValue("metadata")));
    } else if (j.getValue("metadata") != null) {
      throw Failure.INVALID.exception("webhook.metadata: only with the firecrawl format");
    }
    return out;
  }

  private static JsonObject metadata(Object value) {
    JsonObject out = new JsonObject();
    if (value == null) {
      return out;
    }
    if (!(value instanceof JsonObject given) || given.size() > MAX_METADATA) {
      throw Failure.INVALID.exception("webhook.metadata: must be an object of at most " + MAX_METADATA + " strings");
    }
    for (String name : given.fieldNames()) {
      if (!(given.getValue(name) instanceof String v) || v.length() > MAX_METADATA_VALUE || name.length() > 100) {
        throw Failure.INVALID.exception("webhook.metadata." + name + ": must be a string of at most "
            + MAX_METADATA_VALUE + " characters, under a name of at most 100");
      }
      out.put(name, v);
    }
    return out;
  }
}
