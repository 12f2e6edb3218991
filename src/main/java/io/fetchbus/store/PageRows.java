package io.fetchbus.store;

import io.fetchbus.bus.Fields;
import io.fetchbus.bus.Page;
import io.fetchbus.bus.SavePage;
import io.fetchbus.bus.WebUrl;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.UUID;

/** Pages to and from rows: the parameters of {@link Sql#INSERT_PAGE} and the {@link Page} of a row. */
final class PageRows {
  private PageRows() {}

  /**
   * Inserting a page locks its body's row of {@code contents} and its fetch id: batches of pages take those locks in
   * this one order, so that two of them never wait for each other. Parameters 0 and 3 of {@link #insertParams}: the
   * body's hash and the fetch id.
   */
  static final Comparator<Tuple> LOCK_ORDER = Comparator
      .comparing((Tuple t) -> t.getString(0), Comparator.nullsLast(Comparator.naturalOrder()))
      .thenComparing(t -> String.valueOf(t.getValue(3)));

  /**
   * The parameters of {@link Sql#INSERT_PAGE}; {@code jobId} is null for a page not stored by a job. The page goes in
   * searchable when {@code searchable} and the extract verticle made its search vector; else the indexer makes it.
   */
  static Tuple insertParams(SavePage p, WebUrl url, UUID jobId, boolean searchable) {
    return Tuple.tuple()
        .addValue(p.body() == null ? null : p.sha256())
        .addValue(p.body())
        .addValue(p.body() == null ? null : p.body().length())
        .addValue(p.fetchId() == null ? null : Fields.uuid("fetchId", p.fetchId(), "a UUID"))
        .addValue(url.toString())
        .addValue(url.key())
        .addValue(url.host())
        .addValue(p.finalUrl())
        .addValue(p.status())
        .addValue(p.contentType())
        .addValue(p.headers())
        .addValue(p.title())
        .addValue(OffsetDateTime.ofInstant(p.fetchedAt(), ZoneOffset.UTC))
        .addValue(p.elapsedMs() == null ? null : (int) Math.min(Integer.MAX_VALUE, p.elapsedMs()))
        .addValue(p.error())
        .addValue(p.retries())
        .addValue(p.timing())
        .addValue(p.errorClass())
        .addValue(p.extracted().getJsonObject("metadata"))
        .addValue(utf8(p.extracted().getString("text")))
        .addValue(utf8(p.extracted().getString("markdown")))
        .addValue(p.extracted().getJsonArray("links"))
        .addValue(jobId)
        .addValue(searchable && p.error() == null ? utf8(p.extracted().getString("search")) : null)
        .addValue(p.error() == null && p.exchange() != null ? p.exchange().request() : null)
        .addValue(p.error() == null && p.exchange() != null ? p.exchange().response() : null)
        .addValue(p.error() == null && p.exchange() != null ? p.exchange().peerIp() : null);
  }

  /**
   * A page's long strings (its text, markdown and search vector, a few KB each) go to PostgreSQL as UTF-8 bytes that
   * the statement reads back as text: the client encodes a text parameter a character at a time on the event loop
   * (14% of its time on a miss), where {@link String#getBytes} copies an ASCII string's array at once. A string with
   * a character beyond ASCII (one curly quote is enough, as on most pages) is encoded into an array of its exact
   * length, where {@code getBytes} allocates three bytes a character and then copies the result to its length; the
   * bytes are the same, an unpaired surrogate included ({@code ?}). Netty's encoder is not used: it counts and
   * writes an unpaired high surrogate followed by another character wrongly. Either array is wrapped, not copied.
   */
  static Buffer utf8(String s) {
    if (s == null) {
      return null;
    }
    int n = s.length();
    int length = 0;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        length++;
      } else if (c < 0x800) {
        length += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
        length += 4;
        i++;
      } else {
        length += Character.isSurrogate(c) ? 1 : 3;
      }
    }
    byte[] out = length == n ? s.getBytes(StandardCharsets.UTF_8) : new byte[length];
    if (length != n) {
      int p = 0;
      for (int i = 0; i < n; i++) {
        char c = s.charAt(i);
        if (c < 0x80) {
          out[p++] = (byte) c;
        } else if (c < 0x800) {
          out[p++] = (byte) (0xC0 | c >> 6);
          out[p++] = (byte) (0x80 | c & 0x3F);
        } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
          int cp = Character.toCodePoint(c, s.charAt(++i));
          out[p++] = (byte) (0xF0 | cp >> 18);
          out[p++] = (byte) (0x80 | cp >> 12 & 0x3F);
          out[p++] = (byte) (0x80 | cp >> 6 & 0x3F);
          out[p++] = (byte) (0x80 | cp & 0x3F);
        } else if (Character.isSurrogate(c)) {
          out[p++] = '?';
        } else {
          out[p++] = (byte) (0xE0 | c >> 12);
          out[p++] = (byte) (0x80 | c >> 6 & 0x3F);
          out[p++] = (byte) (0x80 | c & 0x3F);
        }
      }
    }
    return BufferInternal.buffer(Unpooled.wrappedBuffer(out));
  }

  static Page page(Row r) {
    OffsetDateTime at = r.getOffsetDateTime("fetched_at");
    Integer bytes = r.getInteger("bytes");
    Integer elapsed = r.getInteger("elapsed_ms");
    Object headers = r.getValue("headers");
    return new Page(r.getLong("id"), r.getString("fetch_id"), r.getString("url"), r.getString("final_url"),
        r.getString("host"), r.getInteger("status"), r.getString("content_type"),
        headers instanceof JsonObject h ? h : new JsonObject(), bytes == null ? null : bytes.longValue(),
        r.getString("content_sha256"), r.getString("title"), at == null ? null : at.toInstant(),
        elapsed == null ? null : elapsed.longValue(), r.getValue("timing") instanceof JsonObject t ? t : new JsonObject(),
        r.getInteger("retries"), r.getString("error"), r.getString("error_class"),
        r.getOffsetDateTime("revalidated_at") == null ? null : r.getOffsetDateTime("revalidated_at").toInstant(),
        r.getValue("metadata") instanceof JsonObject m ? m : null, false);
  }

}
