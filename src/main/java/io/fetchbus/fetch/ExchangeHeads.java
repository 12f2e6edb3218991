package io.fetchbus.fetch;

import io.fetchbus.bus.HttpExchange;
import io.fetchbus.bus.WebUrl;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import java.util.Map;

/**
 * The heads of an HTTP/1.1 exchange as text, for the WARC export ({@link HttpExchange}): the request as it is
 * written, and the response as received, but for its framing. The client takes the chunked transfer coding off a
 * body and decodes a gzip or deflate one (and says so by removing Content-Encoding and Content-Length), and the body
 * is stored that way: the head kept says how to read the body kept, so Transfer-Encoding and Content-Length give
 * way to the stored body's length.
 */
final class ExchangeHeads {
  private ExchangeHeads() {}

  /** {@code GET <path?query> HTTP/1.1}, then {@code headers} in the order they are written, then the empty line. */
  static String request(WebUrl url, MultiMap headers) {
    String path = url.uri().getRawPath() == null || url.uri().getRawPath().isEmpty() ? "/" : url.uri().getRawPath();
    String query = url.uri().getRawQuery();
    StringBuilder head = new StringBuilder("GET ").append(path).append(query == null ? "" : "?" + query)
        .append(" HTTP/1.1\r\n");
    appendHeaders(head, headers, false);
    return cap(head.append("\r\n").toString());
  }

  /** The status line and headers of {@code resp}, framed for a body of {@code bodyBytes} as stored. */
  static String response(HttpClientResponse resp, long bodyBytes) {
    String version = switch (resp.version()) {
      case HTTP_1_0 -> "HTTP/1.0";
      case HTTP_2 -> "HTTP/2";
      default -> "HTTP/1.1";
    };
    StringBuilder head = new StringBuilder(version).append(' ').append(resp.statusCode()).append(' ')
        .append(resp.statusMessage() == null ? "" : resp.statusMessage()).append("\r\n");
    appendHeaders(head, resp.headers(), true);
    head.append("Content-Length: ").append(bodyBytes).append("\r\n");
    return cap(head.append("\r\n").toString());
  }

  private static void appendHeaders(StringBuilder head, MultiMap headers, boolean reframe) {
    for (Map.Entry<String, String> h : headers) {
      if (reframe && (h.getKey().equalsIgnoreCase(HttpHeaders.TRANSFER_ENCODING.toString())
          || h.getKey().equalsIgnoreCase(HttpHeaders.CONTENT_LENGTH.toString()))) {
        continue;
      }
      // PostgreSQL text holds no NUL: the one byte a head cannot keep as it came.
      head.append(h.getKey().replace('\0', ' ')).append(": ").append(h.getValue().replace('\0', ' ')).append("\r\n");
    }
  }

  /** A head over {@link HttpExchange#MAX_HEAD_CHARS} is not kept (null): the page is stored without it. */
  private static String cap(String head) {
    return head.length() <= HttpExchange.MAX_HEAD_CHARS ? head : null;
  }
}
