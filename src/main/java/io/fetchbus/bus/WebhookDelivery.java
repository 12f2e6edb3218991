package io.fetchbus.bus;

import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What {@link Bus#WEBHOOK_DELIVER} takes: {@code {"url", "headers": {name: value}, "body", "timeoutMs"?}}. The
 * body is text, sent as UTF-8, so a signature computed over its UTF-8 bytes holds for what arrives.
 * {@code timeoutMs} (default {@value #DEFAULT_TIMEOUT_MS}, at most {@value #MAX_TIMEOUT_MS}) bounds the whole
 * exchange: resolving, connecting, sending and the response head.
 */
public record WebhookDelivery(WebUrl url, JsonObject headers, String body, long timeoutMs) {
  public static final long DEFAULT_TIMEOUT_MS = 10_000;
  public static final long MAX_TIMEOUT_MS = 60_000;
  public static final int MAX_BODY_CHARS = 1 << 20;
  public static final int MAX_HEADERS = 32;
  public static final int MAX_HEADER_VALUE = 4096;
  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}");
  /** Headers that frame the request or the connection: ours to set, never a caller's. */
  private static final Set<String> RESERVED = Set.of("host", "content-length", "transfer-encoding", "connection",
      "keep-alive", "upgrade", "te", "trailer", "expect", "proxy-authorization", "proxy-connection");

  public static WebhookDelivery from(JsonObject json) {
    if (json == null) {
      throw Failure.INVALID.exception("body: must be a JSON object");
    }
    WebUrl url = WebUrl.parse("url", json.getValue("url"));
    Object h = json.getValue("headers");
    JsonObject headers = new JsonObject();
    if (h != null) {
      if (!(h instanceof JsonObject given) || given.size() > MAX_HEADERS) {
        throw Failure.INVALID.exception("headers: must be an object of at most " + MAX_HEADERS + " string values");
      }
      for (String name : given.fieldNames()) {
        String problem = headerProblem(name, given.getValue(name));
        if (problem != null) {
          throw Failure.INVALID.exception("headers." + name + ": " + problem);
        }
        headers.put(name, given.getString(name));
      }
    }
    String body = Fields.string(json, "body", MAX_BODY_CHARS);
    Long timeoutMs = Fields.wholeNumber(json, "timeoutMs", 1, MAX_TIMEOUT_MS);
    return new WebhookDelivery(url, headers, body == null ? "" : body, timeoutMs == null ? DEFAULT_TIMEOUT_MS : timeoutMs);
  }

  /**
   * Why a header may not be sent ({@code null} when it may): the name must be an HTTP token and not one that
   * frames the request (Host, Content-Length, Transfer-Encoding, Connection...), the value a string of at most
   * {@value #MAX_HEADER_VALUE} characters without control characters (so it cannot split the request).
   */
  public static String headerProblem(String name, Object value) {
    if (!TOKEN.matcher(name).matches() || RESERVED.contains(name.toLowerCase(Locale.ROOT))
        || name.toLowerCase(Locale.ROOT).startsWith("proxy-")) {
      return "is not a header name a webhook may set (an HTTP token, and not one that frames the request)";
    }
    if (!(value instanceof String s) || s.length() > MAX_HEADER_VALUE
        || s.chars().anyMatch(c -> c < 0x20 && c != '\t' || c == 0x7F)) {
      return "must be a string of at most " + MAX_HEADER_VALUE + " characters without control characters";
    }
    return null;
  }

  public JsonObject toJson() {
    return new JsonObject().put("url", url.toString()).put("headers", headers).put("body", body)
        .put("timeoutMs", timeoutMs);
  }
}
