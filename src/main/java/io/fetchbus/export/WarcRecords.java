package io.fetchbus.export;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.netpreserve.jwarc.MediaType;
import org.netpreserve.jwarc.MessageVersion;
import org.netpreserve.jwarc.WarcCompression;
import org.netpreserve.jwarc.WarcDigest;
import org.netpreserve.jwarc.WarcRecord;
import org.netpreserve.jwarc.WarcRequest;
import org.netpreserve.jwarc.WarcResource;
import org.netpreserve.jwarc.WarcResponse;
import org.netpreserve.jwarc.WarcRevisit;
import org.netpreserve.jwarc.WarcWriter;
import org.netpreserve.jwarc.Warcinfo;

/**
 * The records of one WARC/1.1 file, written with jwarc, each record a gzip member of its own (so a reader can seek
 * to any of them). A page fetched with its exchange kept is a {@code request} and a {@code response} record, the
 * heads as they went over the wire and the body as stored; a page whose body was written already in this file is a
 * {@code revisit} (identical payload digest) instead of a second response; a page stored without its exchange
 * (before it was kept, or saved over the bus without it) is a {@code resource} record of its body. Digests are
 * SHA-256, base32, of what is written. Compressing is CPU work: call it on a worker thread, one page list at a time.
 */
public final class WarcRecords {
  /** The bodies this file remembers having written, for revisits: the oldest is forgotten beyond it. */
  static final int MAX_REMEMBERED = 20_000;

  /** Where a body was written first: what a revisit refers to. */
  private record Original(URI recordId, String targetUri, Instant date) {}

  private final Map<String, Original> written = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Original> eldest) {
      return size() > MAX_REMEMBERED;
    }
  };
  private final URI warcinfoId;
  private final Map<String, List<String>> info;

  /** A file whose {@code warcinfo} names the software and describes its content with {@code description}. */
  public WarcRecords(String software, String description) {
    this.info = new LinkedHashMap<>();
    info.put("software", List.of(software));
    info.put("format", List.of("WARC File Format 1.1"));
    info.put("conformsTo", List.of("https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"));
    info.put("description", List.of(description));
    this.warcinfoId = URI.create("urn:uuid:" + java.util.UUID.randomUUID());
  }

  /** The file's first record. */
  public Buffer warcinfo(String filename, Instant now) throws IOException {
    StringBuilder fields = new StringBuilder();
    info.forEach((name, values) -> values.forEach(v -> fields.append(name).append(": ").append(v).append("\r\n")));
    byte[] block = fields.toString().getBytes(StandardCharsets.UTF_8);
    return write(List.of(new Warcinfo.Builder().version(MessageVersion.WARC_1_1).recordId(warcinfoId).date(now)
        .filename(filename).body(MediaType.WARC_FIELDS, block).blockDigest(sha256(block)).build()));
  }

  /**
   * The records of {@code pages}, in their order: each a page record ({@link io.fetchbus.bus.Page} JSON) with its
   * capture ({@code requestHead}, {@code responseHead}, {@code peerIp}, {@code body}) under {@code "capture"}.
   */
  public Buffer pages(List<JsonObject> pages) throws IOException {
    List<WarcRecord> records = new java.util.ArrayList<>();
    for (JsonObject page : pages) {
      records.addAll(records(page, page.getJsonObject("capture")));
    }
    return write(records);
  }

  private List<WarcRecord> records(JsonObject page, JsonObject capture) throws IOException {
    String target = page.getString("finalUrl") != null ? page.getString("finalUrl") : page.getString("url");
    Instant date = page.getInstant("fetchedAt");
    byte[] body = capture.getBuffer("body").getBytes();
    WarcDigest payloadDigest = sha256(body);
    String responseHead = capture.getString("responseHead");
    String requestHead = capture.getString("requestHead");
    InetAddress ip = ip(capture.getString("peerIp"));
    if (responseHead == null || requestHead == null) {
      WarcResource.Builder resource = new WarcResource.Builder(URI.create(target)).version(MessageVersion.WARC_1_1)
          .date(date).warcinfoId(warcinfoId).body(mediaType(page.getString("contentType")), body)
          .blockDigest(payloadDigest).payloadDigest(payloadDigest);
      return List.of(resource.build());
    }
    byte[] head = responseHead.getBytes(StandardCharsets.ISO_8859_1);
    Original original = written.get(payloadDigest.base32());
    WarcRecord answer;
    if (original != null) {
      WarcRevisit.Builder revisit = new WarcRevisit.Builder(target, WarcRevisit.IDENTICAL_PAYLOAD_DIGEST_1_1)
          .version(MessageVersion.WARC_1_1).date(date).warcinfoId(warcinfoId)
          .refersTo(original.recordId(), URI.create(original.targetUri()), original.date())
          .body(MediaType.HTTP_RESPONSE, head).blockDigest(sha256(head)).payloadDigest(payloadDigest);
      answer = ip == null ? revisit.build() : revisit.ipAddress(ip).build();
    } else {
      byte[] block = new byte[head.length + body.length];
      System.arraycopy(head, 0, block, 0, head.length);
      System.arraycopy(body, 0, block, head.length, body.length);
      WarcResponse.Builder response = new WarcResponse.Builder(target).version(MessageVersion.WARC_1_1).date(date)
          .warcinfoId(warcinfoId).body(MediaType.HTTP_RESPONSE, block).blockDigest(sha256(block))
          .payloadDigest(payloadDigest);
      answer = ip == null ? response.build() : response.ipAddress(ip).build();
      written.put(payloadDigest.base32(), new Original(answer.id(), target, date));
    }
    byte[] sent = requestHead.getBytes(StandardCharsets.ISO_8859_1);
    WarcRequest.Builder request = new WarcRequest.Builder(target).version(MessageVersion.WARC_1_1).date(date)
        .warcinfoId(warcinfoId).concurrentTo(answer.id()).body(MediaType.HTTP_REQUEST, sent).blockDigest(sha256(sent));
    return List.of(answer, ip == null ? request.build() : request.ipAddress(ip).build());
  }

  private static Buffer write(List<WarcRecord> records) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (WarcWriter writer = new WarcWriter(Channels.newChannel(out), WarcCompression.GZIP)) {
      for (WarcRecord record : records) {
        writer.write(record);
      }
    }
    return Buffer.buffer(out.toByteArray());
  }

  private static WarcDigest sha256(byte[] bytes) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update(bytes);
      return new WarcDigest(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  /** The stored Content-Type, as far as it parses; a body of no known type is octet-stream. */
  private static MediaType mediaType(String contentType) {
    if (contentType == null) {
      return MediaType.OCTET_STREAM;
    }
    MediaType type = MediaType.parseLeniently(contentType);
    return type.isValid() ? type : MediaType.OCTET_STREAM;
  }

  /** The server's address, as the fetch kept it (a literal: no lookup), or null. */
  private static InetAddress ip(String literal) {
    if (literal == null || !literal.matches("[0-9a-fA-F:.]{2,45}")) {
      return null;
    }
    try {
      return InetAddress.getByName(literal);
    } catch (java.net.UnknownHostException e) {
      return null;
    }
  }
}
