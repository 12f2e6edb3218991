package io.fetchbus.support;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Pages as a verticle or a bridge client saves them over {@code fetchbus.pages.save}, without a fetch. */
public final class SavedPages {
  private SavedPages() {}

  /** A fetched HTML page at {@code url}, its body {@code html}, stored with {@code title} and extracted {@code text}. */
  public static JsonObject html(String url, String html, String title, String text) {
    return new JsonObject()
        .put("url", url)
        .put("status", 200)
        .put("contentType", "text/html")
        .put("body", Buffer.buffer(html))
        .put("sha256", sha256(html))
        .put("title", title)
        .put("extracted", new JsonObject().put("text", text));
  }

  public static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
