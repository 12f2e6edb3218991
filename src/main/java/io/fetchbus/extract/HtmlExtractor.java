package io.fetchbus.extract;

import io.fetchbus.bus.MediaTypes;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.Charset;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;

/** What Fetchbus reads out of an HTML page. Pure and CPU-bound: call it only from a worker thread. */
final class HtmlExtractor {
  private static final Pattern CHARSET = Pattern.compile("charset\\s*=\\s*\"?([\\w.:-]+)", Pattern.CASE_INSENSITIVE);
  private static final int MAX_TITLE = 1000;

  private HtmlExtractor() {}

  static JsonObject extract(String url, String contentType, Buffer body) throws IOException {
    JsonObject out = new JsonObject().putNull("title");
    if (body == null || body.length() == 0 || !MediaTypes.isHtml(contentType)) {
      return out;
    }
    Document doc = Jsoup.parse(new ByteArrayInputStream(body.getBytes()), charsetOf(contentType), url == null ? "" : url);
    String title = doc.title().strip();
    if (!title.isEmpty()) {
      out.put("title", title.length() > MAX_TITLE ? title.substring(0, MAX_TITLE) : title);
    }
    return out;
  }

  /** The charset named by the Content-Type, when the JVM knows it; otherwise jsoup sniffs the BOM and meta tags. */
  private static String charsetOf(String contentType) {
    Matcher m = CHARSET.matcher(contentType);
    if (m.find()) {
      String name = m.group(1);
      try {
        if (Charset.isSupported(name)) {
          return name;
        }
      } catch (IllegalArgumentException ignored) {
        // an illegal charset name from a server: let jsoup sniff instead
      }
    }
    return null;
  }
}
