package io.fetchbus.extract;

import io.fetchbus.bus.MediaTypes;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Set;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;

/**
 * What Fetchbus reads out of a page, in the requested {@link Format}s: always {@code "title"}, plus one key per
 * format ({@code "metadata"}, {@code "text"}, {@code "markdown"}, {@code "links"}; {@code html} adds nothing, the
 * raw body is stored elsewhere). Pure and CPU-bound: call it only from a worker thread.
 */
final class HtmlExtractor {
  static final int MAX_TEXT = 1_000_000;
  private static final int MAX_TITLE = 1000;

  private HtmlExtractor() {}

  /** The title and metadata: what a request without {@code "formats"} gets. */
  static JsonObject extract(String url, String contentType, Buffer body) throws IOException {
    return extract(url, contentType, body, EnumSet.of(Format.METADATA));
  }

  static JsonObject extract(String url, String contentType, Buffer body, Set<Format> formats) throws IOException {
    byte[] bytes = body == null ? new byte[0] : body.getBytes();
    if (!MediaTypes.isHtml(contentType)) {
      return extractNonHtml(contentType, bytes, formats);
    }
    // Parsed once; every format is derived from this tree, the text ones last, after it is stripped in place.
    Document page = Jsoup.parse(new ByteArrayInputStream(bytes), MediaTypes.charset(contentType), url == null ? "" : url);
    String title = Texts.cap(page.title().strip(), MAX_TITLE);
    JsonObject out = new JsonObject().put("title", title.isEmpty() ? null : title);
    if (formats.contains(Format.METADATA)) {
      out.put("metadata", PageMetadata.of(page, out.getString("title")));
    }
    if (formats.contains(Format.LINKS)) {
      out.put("links", PageLinks.of(page));
    }
    if (formats.contains(Format.TEXT) || formats.contains(Format.MARKDOWN)) {
      Element readable = Boilerplate.strip(page);
      if (formats.contains(Format.TEXT)) {
        out.put("text", Texts.cap(PlainText.of(readable), MAX_TEXT));
      }
      if (formats.contains(Format.MARKDOWN)) {  // last: it trims and rewrites the stripped tree
        out.put("markdown", Texts.cap(Markdown.of(Boilerplate.mainContent(readable)), MAX_TEXT));
      }
    }
    return out;
  }

  /** Nothing to parse: only a text/* body, as it is, and only when text was asked for. */
  private static JsonObject extractNonHtml(String contentType, byte[] bytes, Set<Format> formats) {
    JsonObject out = new JsonObject().putNull("title");
    if (formats.contains(Format.TEXT) && MediaTypes.isText(contentType)) {
      String charset = MediaTypes.charset(contentType);
      String text = new String(bytes, charset == null ? StandardCharsets.UTF_8 : Charset.forName(charset));
      out.put("text", Texts.cap(text.startsWith("\uFEFF") ? text.substring(1) : text, MAX_TEXT));
    }
    return out;
  }
}
