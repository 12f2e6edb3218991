package io.fetchbus.bus;

import io.vertx.core.json.JsonObject;

/**
 * What went over the wire for a fetch, as the WARC export needs it: the request line and headers sent, the status
 * line and headers received, each ending with the empty line, and the address of the server that answered. Header
 * bytes are kept one char each (ISO-8859-1, as HTTP/1.1 reads them), so they go back out byte for byte.
 */
public record HttpExchange(String request, String response, String peerIp) {
  /** A head longer than this is not kept (the HTTP client refuses response heads over 8 KiB anyway). */
  public static final int MAX_HEAD_CHARS = 32_768;

  public JsonObject toJson() {
    return new JsonObject().put("request", request).put("response", response).put("peerIp", peerIp);
  }

  /** From a peer's JSON: null when absent or malformed, since a page is worth storing without it. */
  public static HttpExchange from(JsonObject j) {
    if (j == null || !(j.getValue("request") instanceof String request) || !(j.getValue("response") instanceof String response)
        || request.length() > MAX_HEAD_CHARS || response.length() > MAX_HEAD_CHARS || request.indexOf('\0') >= 0
        || response.indexOf('\0') >= 0) {
      return null;
    }
    Object ip = j.getValue("peerIp");
    return new HttpExchange(request, response, ip instanceof String s && s.length() <= 64 ? s : null);
  }
}
