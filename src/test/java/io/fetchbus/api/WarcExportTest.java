package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.JobClient;
import io.fetchbus.support.NodePackages;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A job's pages as a WARC file, read back by webrecorder's warcio (npm, {@code src/test/js}): every record
 * parses and its digests verify, each fetch is a request and a response as they went over the wire (compared with
 * what the upstream received and sent), a body stored twice is a revisit, and each payload is the stored body.
 */
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class WarcExportTest extends TestBase {
  private static final Path READER = NodePackages.DIR;
  private static final String SAME = "<html><head><title>Same</title></head><body><p>the same body twice</p></body></html>";
  private static final String ZIPPED = "<html><head><title>Zipped</title></head><body><p>" + "gzip me ".repeat(200)
      + "</p></body></html>";

  private HttpServer upstream;
  /** The headers each path's request arrived with, as the upstream read them. */
  private final Map<String, MultiMap> received = new HashMap<>();

  @BeforeAll
  static void installReader() throws IOException, InterruptedException {
    NodePackages.install();
  }

  @BeforeEach
  void deploy(VertxTestContext ctx) throws IOException {
    byte[] zipped = gzip(ZIPPED);
    upstream = vertx.createHttpServer().requestHandler(req -> {
      received.put(req.path(), MultiMap.caseInsensitiveMultiMap().addAll(req.headers()));
      var resp = req.response().putHeader("Content-Type", "text/html; charset=utf-8");
      switch (req.path()) {
        case "/chunked" -> {
          resp.setChunked(true).putHeader("X-Custom-Header", "Mixed Case Value");
          resp.write("<html><head><title>Chunked</title></head>");
          resp.end("<body><p>in two chunks</p></body></html>");
        }
        case "/same/1", "/same/2" -> resp.end(SAME);
        case "/zipped" -> resp.putHeader("Content-Encoding", "gzip").end(Buffer.buffer(zipped));
        case "/old" -> resp.end("<html><head><title>Old</title></head><body>kept before exchanges were</body></html>");
        case "/moved" -> resp.setStatusCode(302).putHeader("Location", "/chunked2").end();
        case "/chunked2" -> resp.end("<html><head><title>Moved here</title></head><body>target</body></html>");
        default -> resp.setStatusCode(404).end("<html><body>not here</body></html>");
      }
    });
    upstream.listen(0, "127.0.0.1")
        .compose(s -> io.fetchbus.support.ServiceUnderTest.fresh(vertx, new JsonObject()))
        .onSuccess(f -> fb = f)
        .onComplete(ctx.succeedingThenComplete());
  }

  private String url(String path) {
    return "http://127.0.0.1:" + upstream.actualPort() + path;
  }

  @Test
  @DisplayName("a batch's WARC: warcinfo, then per fetch a request and a response with the heads as sent and "
      + "received and the stored body, a revisit for a body written already, a resource for a page stored without "
      + "its exchange; warcio parses every record and every digest verifies")
  void batchAsWarc(VertxTestContext ctx) {
    JsonArray urls = new JsonArray().add(url("/chunked")).add(url("/same/1")).add(url("/same/2")).add(url("/zipped"))
        .add(url("/old")).add(url("/moved"));
    String[] id = new String[1];
    Map<String, JsonObject> pages = new HashMap<>();
    fb.http.post("/v1/batches").sendJsonObject(new JsonObject().put("urls", urls))
        .compose(resp -> {
          id[0] = resp.bodyAsJsonObject().getString("id");
          return JobClient.finished(fb, "/v1/batches/" + id[0]);
        })
        // A page stored before the exchange was kept (pages of earlier versions) has neither head.
        .compose(job -> TestDatabase.count(vertx, "WITH u AS (UPDATE pages SET request_head = NULL, response_head = NULL "
            + "WHERE url = '" + url("/old") + "' RETURNING 1) SELECT count(*) FROM u"))
        .compose(cleared -> JobClient.all(fb, "/v1/batches/" + id[0] + "/pages"))
        .compose(listed -> {
          listed.forEach(p -> pages.put(p.getString("url"), p));
          return fb.http.get("/v1/batches/" + id[0] + "/export?format=warc").send();
        })
        .compose(warc -> vertx.fileSystem().mkdirs("target/warc-export")
            .compose(v -> vertx.fileSystem().writeFile("target/warc-export/batch.warc.gz", warc.body()))
            .map(warc))
        .compose(warc -> bodies(pages).compose(stored -> warcio(warc.body(), "read-warc.mjs").map(records -> {
          ctx.verify(() -> check(warc, records, pages, stored, id[0]));
          return null;
        })).compose(v -> warcio(warc.body(), "node_modules/warcio/dist/cli.js", "cdx-index", "--format", "json")
            .map(index -> {
              ctx.verify(() -> replayable(warc.body(), index));
              return null;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  private void check(HttpResponse<Buffer> warc, List<JsonObject> records, Map<String, JsonObject> pages,
                     Map<String, String> stored, String jobId) {
    assertThat(warc.statusCode()).isEqualTo(200);
    assertThat(warc.getHeader("Content-Type")).isEqualTo("application/warc");
    assertThat(warc.getHeader("Content-Disposition")).isEqualTo("attachment; filename=\"batch-" + jobId + ".warc.gz\"");
    assertThat(pages).hasSize(6);
    assertThat(records.get(0).getString("type")).isEqualTo("warcinfo");
    assertThat(records.get(0).getString("info")).contains("software: Fetchbus", "WARC File Format 1.1");
    assertThat(records).allSatisfy(r -> assertThat(r.getString("version")).isEqualTo("WARC/1.1"));

    Map<String, JsonObject> byTarget = new HashMap<>();
    Map<String, JsonObject> requests = new HashMap<>();
    for (JsonObject r : records.subList(1, records.size())) {
      if (r.getString("type").equals("request")) {
        requests.put(r.getString("concurrentTo"), r);
      } else {
        assertThat(byTarget.put(r.getString("target"), r)).as("one capture per URL: " + r.getString("target")).isNull();
      }
    }
    // Every page that has a body is in it, under the URL its body came from.
    assertThat(byTarget.keySet()).containsExactlyInAnyOrder(url("/chunked"), url("/same/1"), url("/same/2"),
        url("/zipped"), url("/old"), url("/chunked2"));
    for (JsonObject page : pages.values()) {
      JsonObject r = byTarget.get(page.getString("finalUrl"));
      if (!r.getString("type").equals("revisit")) {
        assertThat(r.getString("payloadSha256")).as("payload of " + page.getString("url") + " is the stored body")
            .isEqualTo(stored.get(page.getString("url"))).isEqualTo(page.getString("sha256"));
      }
      assertThat(Instant.parse(r.getString("date")).truncatedTo(ChronoUnit.SECONDS)).as("WARC-Date is the fetch's")
          .isEqualTo(Instant.parse(page.getString("fetchedAt")).truncatedTo(ChronoUnit.SECONDS));
    }

    // The heads as received, framed for the body as stored.
    JsonObject chunked = byTarget.get(url("/chunked"));
    assertThat(chunked.getString("type")).isEqualTo("response");
    assertThat(chunked.getString("statusline")).isEqualTo("HTTP/1.1 200 OK");
    assertThat(chunked.getJsonObject("headers").getString("X-Custom-Header")).isEqualTo("Mixed Case Value");
    assertThat(chunked.getJsonObject("headers").getString("Content-Length"))
        .isEqualTo(String.valueOf(chunked.getLong("payloadBytes")));
    assertThat(chunked.getJsonObject("headers").fieldNames()).doesNotContain("Transfer-Encoding", "transfer-encoding");
    assertThat(chunked.getString("ip")).isEqualTo("127.0.0.1");
    JsonObject zipped = byTarget.get(url("/zipped"));
    assertThat(zipped.getLong("payloadBytes")).as("the body as stored: decoded").isEqualTo(ZIPPED.length());
    assertThat(zipped.getJsonObject("headers").fieldNames()).doesNotContain("Content-Encoding", "content-encoding");

    // The request as sent: the headers the upstream received, with their values, in a GET of the path.
    for (String path : List.of("/chunked", "/zipped", "/chunked2")) {
      JsonObject response = byTarget.get(url(path));
      JsonObject request = requests.get(response.getString("id"));
      assertThat(request).as("the request record of " + path).isNotNull();
      assertThat(request.getString("statusline")).isEqualTo("GET " + path + " HTTP/1.1");
      MultiMap sent = MultiMap.caseInsensitiveMultiMap();
      request.getJsonObject("headers").forEach(h -> sent.add(h.getKey(), (String) h.getValue()));
      assertThat(sent.names()).containsExactlyInAnyOrderElementsOf(received.get(path).names());
      received.get(path).forEach(h -> assertThat(sent.get(h.getKey())).as(h.getKey()).isEqualTo(h.getValue()));
    }

    // The same body from a second URL: a revisit of the first written, which is a response.
    JsonObject first = byTarget.get(url("/same/1"));
    JsonObject second = byTarget.get(url("/same/2"));
    JsonObject original = first.getString("type").equals("response") ? first : second;
    JsonObject revisit = original == first ? second : first;
    assertThat(original.getString("type")).isEqualTo("response");
    assertThat(revisit.getString("type")).isEqualTo("revisit");
    assertThat(revisit.getString("profile")).isEqualTo("http://netpreserve.org/warc/1.1/revisit/identical-payload-digest");
    assertThat(revisit.getString("refersTo")).isEqualTo(original.getString("id"));
    assertThat(revisit.getString("refersToTarget")).isEqualTo(original.getString("target"));
    assertThat(revisit.getString("payloadDigest")).isNotBlank();
    assertThat(requests).containsKey(revisit.getString("id"));

    // A page stored without its exchange is its body alone.
    JsonObject old = byTarget.get(url("/old"));
    assertThat(old.getString("type")).isEqualTo("resource");
    assertThat(requests).doesNotContainKey(old.getString("id"));
    assertThat(records).hasSize(1 + 6 + 5);
  }

  // Chromium, ReplayWeb.page's service worker and two replays: minutes on a machine loaded several times over.
  @Timeout(value = 300, timeUnit = TimeUnit.SECONDS)
  @Test
  @DisplayName("ReplayWeb.page (webrecorder, in Chromium) replays the WARC's pages: a response, and a body decoded "
      + "from gzip")
  void replayedInReplayWebPage(VertxTestContext ctx) throws Exception {
    Path replay = NodePackages.replayWebPage();
    // Revisits are not replayed here: ReplayWeb.page showed one in some runs and not in others (warcio checks them).
    JsonArray urls = new JsonArray().add(url("/chunked")).add(url("/zipped"));
    fb.http.post("/v1/batches").sendJsonObject(new JsonObject().put("urls", urls))
        .compose(resp -> {
          String id = resp.bodyAsJsonObject().getString("id");
          return JobClient.finished(fb, "/v1/batches/" + id)
              .compose(job -> fb.http.get("/v1/batches/" + id + "/export?format=warc").send());
        })
        .compose(warc -> replayServer(replay, warc.body()))
        .compose(port -> vertx.executeBlocking(() -> {
          JsonArray pages = new JsonArray()
              .add(new JsonArray().add(url("/chunked")).add("in two chunks"))
              .add(new JsonArray().add(url("/zipped")).add("gzip me"));
          Process node = new ProcessBuilder("node", "replay-warc.mjs", "http://127.0.0.1:" + port, pages.encode())
              .directory(READER.toFile()).redirectErrorStream(true).start();
          String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
          return new Object[] {node.waitFor(), out};
        }))
        .onComplete(ctx.succeeding(run -> ctx.verify(() -> {
          assertThat((Integer) run[0]).as("node replay-warc.mjs:%n%s", run[1]).isZero();
          assertThat(((String) run[1]).lines().filter(l -> l.startsWith("REPLAYED ")))
              .containsExactly("REPLAYED " + url("/chunked"), "REPLAYED " + url("/zipped"));
          ctx.completeNow();
        })));
  }

  /**
   * A site of ReplayWeb.page's embed, as its documentation sets it up: a page with its {@code <replay-web-page>}
   * element for the URL in the query, its {@code ui.js}, its service worker under {@code /replay/}, and the WARC.
   */
  private Future<Integer> replayServer(Path replay, Buffer warc) {
    return vertx.createHttpServer().requestHandler(req -> {
      var resp = req.response();
      switch (req.path()) {
        case "/" -> resp.putHeader("Content-Type", "text/html; charset=utf-8").end("<!doctype html><html><head>"
            + "<script src=\"./ui.js\"></script></head><body><replay-web-page source=\"archive.warc.gz\" url=\""
            + req.getParam("url").replace("&", "&amp;").replace("\"", "&quot;").replace("<", "&lt;")
            + "\" embed=\"replayonly\" replayBase=\"./replay/\"></replay-web-page></body></html>");
        case "/ui.js" -> resp.putHeader("Content-Type", "application/javascript").sendFile(replay.resolve("ui.js").toString());
        case "/replay/sw.js" -> resp.putHeader("Content-Type", "application/javascript")
            .sendFile(replay.resolve("sw.js").toString());
        // As a file server sends a file it has no type for (it chose its loader from application/warc wrongly).
        case "/archive.warc.gz" -> resp.putHeader("Content-Type", "application/octet-stream").end(warc);
        default -> resp.setStatusCode(404).end();
      }
    }).listen(0, "127.0.0.1").map(HttpServer::actualPort);
  }

  /**
   * What a replay tool does with the file: warcio's CDX(J) indexer lists each capture with its offset and length,
   * and the bytes there are that record alone, a gzip member of its own that decompresses to it.
   */
  private void replayable(Buffer warc, List<JsonObject> index) throws IOException {
    assertThat(index).extracting(e -> e.getString("url")).containsExactlyInAnyOrder(url("/chunked"), url("/same/1"),
        url("/same/2"), url("/zipped"), url("/old"), url("/chunked2"));
    for (JsonObject entry : index) {
      int offset = Integer.parseInt(entry.getValue("offset").toString());
      int length = Integer.parseInt(entry.getValue("length").toString());
      byte[] member = warc.getBytes(offset, offset + length);
      String record;
      try (var in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(member))) {
        record = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      }
      assertThat(record).startsWith("WARC/1.1\r\n").contains("WARC-Target-URI: " + entry.getString("url") + "\r\n");
      if (!entry.getString("url").equals(url("/old"))) {
        assertThat(entry.getValue("status").toString()).isEqualTo("200");
      }
    }
  }

  @Test
  @DisplayName("GET /v1/pages/export exports what a listing's filter keeps: a URL's copies as WARC, a host's pages as "
      + "JSON Lines; /v1/pages/{id} is still a page")
  void listingExported(VertxTestContext ctx) {
    fb.http.post("/v1/batches").sendJsonObject(new JsonObject().put("urls", new JsonArray().add(url("/chunked"))
            .add(url("/zipped"))))
        .compose(resp -> JobClient.finished(fb, "/v1/batches/" + resp.bodyAsJsonObject().getString("id")))
        .compose(job -> Future.all(
            fb.http.get("/v1/pages/export?format=warc&url=" + url("/chunked")).send(),
            fb.http.get("/v1/pages/export?host=127.0.0.1&formats=text").send(),
            fb.http.get("/v1/pages?url=" + url("/zipped")).send()))
        .compose(all -> {
          HttpResponse<Buffer> warc = all.resultAt(0);
          HttpResponse<Buffer> jsonl = all.resultAt(1);
          HttpResponse<Buffer> listed = all.resultAt(2);
          long id = listed.bodyAsJsonObject().getJsonArray("items").getJsonObject(0).getLong("id");
          return fb.http.get("/v1/pages/" + id).send().compose(page -> warcio(warc.body(), "read-warc.mjs").map(records -> {
            ctx.verify(() -> {
              assertThat(warc.getHeader("Content-Disposition")).isEqualTo("attachment; filename=\"pages.warc.gz\"");
              assertThat(records).extracting(r -> r.getString("type")).containsExactly("warcinfo", "response", "request");
              assertThat(records.get(1).getString("target")).isEqualTo(url("/chunked"));
              List<JsonObject> lines = jsonl.bodyAsString().lines().map(JsonObject::new).toList();
              assertThat(lines).extracting(l -> l.getString("url")).containsExactlyInAnyOrder(url("/chunked"), url("/zipped"));
              assertThat(lines).allSatisfy(l -> assertThat(l.getString("text")).isNotBlank());
              assertThat(page.statusCode()).isEqualTo(200);
              assertThat(page.bodyAsJsonObject().getString("url")).isEqualTo(url("/zipped"));
            });
            return null;
          }));
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("format=warc with formats, or an unknown format, is a 400 problem naming the parameter")
  void badParameters(VertxTestContext ctx) {
    fb.http.post("/v1/batches").sendJsonObject(new JsonObject().put("urls", new JsonArray().add(url("/chunked"))))
        .compose(resp -> {
          String id = resp.bodyAsJsonObject().getString("id");
          return Future.all(fb.http.get("/v1/batches/" + id + "/export?format=warc&formats=text").send(),
              fb.http.get("/v1/batches/" + id + "/export?format=csv").send());
        })
        .onComplete(ctx.succeeding(both -> ctx.verify(() -> {
          HttpResponse<Buffer> formats = both.resultAt(0);
          HttpResponse<Buffer> csv = both.resultAt(1);
          assertThat(formats.statusCode()).isEqualTo(400);
          assertThat(formats.getHeader("Content-Type")).isEqualTo("application/problem+json");
          assertThat(formats.bodyAsJsonObject().getString("detail")).startsWith("formats: ");
          assertThat(csv.statusCode()).isEqualTo(400);
          assertThat(csv.bodyAsJsonObject().getString("detail")).contains("format");
          ctx.completeNow();
        })));
  }

  /** Each page's stored body (GET /v1/pages/{id}/content), as a SHA-256 in hex, by URL. */
  private Future<Map<String, String>> bodies(Map<String, JsonObject> pages) {
    Map<String, String> hashes = new HashMap<>();
    List<Future<?>> all = new ArrayList<>();
    for (JsonObject page : pages.values()) {
      all.add(fb.http.get("/v1/pages/" + page.getLong("id") + "/content").send()
          .map(resp -> hashes.put(page.getString("url"), sha256(resp.body().getBytes()))));
    }
    return Future.all(all).map(v -> hashes);
  }

  /**
   * What a warcio program ({@code script} and {@code args}, then the file) printed of {@code warc}, one JSON object a
   * line; fails when it fails (our reader fails on a record that does not parse or verify).
   */
  private Future<List<JsonObject>> warcio(Buffer warc, String script, String... args) {
    return vertx.executeBlocking(() -> {
      Path file = Files.createTempFile("export", ".warc.gz");
      try {
        Files.write(file, warc.getBytes());
        List<String> command = new ArrayList<>(List.of("node", script));
        command.addAll(List.of(args));
        command.add(file.toString());
        Process node = new ProcessBuilder(command).directory(READER.toFile()).redirectErrorStream(true).start();
        String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (node.waitFor() != 0) {
          throw new AssertionError("warcio could not read the WARC: " + out);
        }
        return out.lines().map(JsonObject::new).toList();
      } finally {
        Files.deleteIfExists(file);
      }
    });
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] gzip(String text) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return out.toByteArray();
  }
}
