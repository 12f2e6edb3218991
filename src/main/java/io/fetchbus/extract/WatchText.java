package io.fetchbus.extract;

import io.fetchbus.bus.Failure;
import io.fetchbus.bus.MediaTypes;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.select.Elements;
import org.jsoup.select.Selector;

/**
 * What a watch compares of a page ({@code "watch": {"include"?, "exclude"?}} on {@code fetchbus.extract}): its main
 * text, without boilerplate, after the optional CSS selectors (include: only the elements matched; exclude: removed
 * first), a 64-bit SimHash of that text's word 3-shingles, and its links (URLs only). Noise that is not main text (a
 * CSRF token in a hidden input, a footer's timestamp) is gone before the comparison; a few words that change inside
 * the main text move the SimHash by a few bits, which the watch's threshold absorbs. Pure CPU work: workers only.
 */
final class WatchText {
  static final int SHINGLE = 3;
  static final int MAX_LINKS = 1_000;

  private WatchText() {}

  static JsonObject of(String url, String contentType, Buffer body, JsonObject options) throws IOException {
    String include = options.getString("include");
    String exclude = options.getString("exclude");
    byte[] bytes = body == null ? new byte[0] : body.getBytes();
    if (!MediaTypes.isHtml(contentType)) {
      String text = new String(bytes, StandardCharsets.UTF_8);
      return result(Texts.cap(text, HtmlExtractor.MAX_TEXT), new JsonArray());
    }
    Document page = Jsoup.parse(new ByteArrayInputStream(bytes), MediaTypes.charset(contentType), url == null ? "" : url);
    JsonArray links = new JsonArray();
    for (Object link : PageLinks.of(page)) {
      if (links.size() == MAX_LINKS) {
        break;
      }
      links.add(((JsonObject) link).getString("url"));
    }
    try {
      if (exclude != null) {
        page.select(exclude).remove();
      }
      Element main = Boilerplate.mainContent(Boilerplate.strip(page));
      String text;
      if (include != null) {
        Elements chosen = page.select(include);
        List<String> parts = new ArrayList<>();
        for (Element el : chosen) {
          parts.add(PlainText.of(el));
        }
        text = String.join("\n", parts);
      } else {
        text = PlainText.of(main);
      }
      return result(Texts.cap(text, HtmlExtractor.MAX_TEXT), links);
    } catch (Selector.SelectorParseException e) {
      throw Failure.INVALID.exception("watch selector: " + e.getMessage());
    }
  }

  private static JsonObject result(String text, JsonArray links) {
    return new JsonObject().put("text", text).put("simhash", simHash(text)).put("links", links);
  }

  /**
   * Charikar's SimHash over the lower-cased word 3-shingles (whole text when shorter): near-duplicate texts get
   * hashes a small Hamming distance apart. Each shingle is hashed with 64-bit FNV-1a, then mixed (SplitMix64's
   * finaliser) so that every bit depends on every input byte.
   */
  static long simHash(String text) {
    String[] words = text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+");
    List<String> tokens = new ArrayList<>();
    for (String w : words) {
      if (!w.isEmpty()) {
        tokens.add(w);
      }
    }
    int[] weights = new int[64];
    int shingles = Math.max(1, tokens.size() - SHINGLE + 1);
    for (int i = 0; i < shingles && !tokens.isEmpty(); i++) {
      long h = hash(String.join(" ", tokens.subList(i, Math.min(tokens.size(), i + SHINGLE))));
      for (int b = 0; b < 64; b++) {
        weights[b] += ((h >>> b) & 1) == 1 ? 1 : -1;
      }
    }
    long simhash = 0;
    for (int b = 0; b < 64; b++) {
      if (weights[b] > 0) {
        simhash |= 1L << b;
      }
    }
    return simhash;
  }

  private static long hash(String s) {
    long h = 0xcbf29ce484222325L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
    h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
    return h ^ (h >>> 31);
  }
}
