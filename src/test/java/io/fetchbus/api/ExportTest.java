package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.JobClient;
import io.fetchbus.support.SavedPages;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestSite;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A job's pages taken out: listings with content, bounded in bytes whatever their limit, and the JSON Lines export
 * of a whole crawl, read back by Python's own json and gzip modules (a reader this project did not write).
 */
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class ExportTest extends TestBase {
  /** Reads a JSON Lines file as a JSON Lines reader would: every line one JSON object, with its url and text. */
  private static final String PYTHON_READER = """
      import gzip, json, sys
      opener = gzip.open if sys.argv[2] == "gzip" else open
      with opener(sys.argv[1], "rt", encoding="utf-8") as f:
          lines = f.read().split("\\n")
      assert lines[-1] == "", "the export ends with a newline"
      for line in lines[:-1]:
          page = json.loads(line)
          assert isinstance(page, dict) and page["url"] and page["id"] > 0, line[:200]
          assert "text" in page and "links" in page, sorted(page)
          print(page["url"])
      """;

  private TestSite site;

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    TestSite.start(vertx, 40)
        .compose(s -> {
          site = s;
          return ServiceUnderTest.fresh(vertx, new JsonObject()
              .put("crawl", new JsonObject().put("pollMs", 50).put("maxInFlight", 16).put("perHostInFlight", 4)));
        })
        .onSuccess(f -> fb = f)
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a listing with html holds at most 4 MiB of content: five pages of 1.5 MB come two, two and one, "
      + "each once, the cursor going on after the last that fit; without formats, all five at once")
  void listingBoundedInBytes(VertxTestContext ctx) {
    String big = "<html><title>big</title><p>" + "x".repeat(1_500_000) + "</p></html>";
    List<Future<?>> saved = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      JsonObject page = SavedPages.html("http://big.test/" + i, big.replace("big", "big " + i), "big " + i, "big " + i)
          .put("fetchId", UUID.randomUUID().toString());
      saved.add(vertx.eventBus().request(Bus.PAGES_SAVE, page));
    }
    Future.all(saved)
        .compose(v -> fb.get("/v1/pages?host=big.test&limit=10"))
        .compose(plain -> pages("/v1/pages?host=big.test&limit=10&formats=html", null, new ArrayList<>())
            .map(answers -> {
              ctx.verify(() -> {
                assertThat(plain.bodyAsJsonObject().getJsonArray("items")).hasSize(5);
                assertThat(answers.stream().map(a -> a.getJsonArray("items").size()).toList()).containsExactly(2, 2, 1);
                Set<Long> ids = new HashSet<>();
                for (JsonObject answer : answers) {
                  for (Object item : answer.getJsonArray("items")) {
                    JsonObject page = (JsonObject) item;
                    ids.add(page.getLong("id"));
                    assertThat(page.getString("html")).hasSizeGreaterThan(1_500_000).startsWith("<html><title>big ");
                  }
                }
                assertThat(ids).hasSize(5);
              });
              return null;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  /** Every answer of a listing, following {@code next} to its end. */
  private Future<List<JsonObject>> pages(String path, String after, List<JsonObject> answers) {
    return fb.get(path + (after == null ? "" : "&after=" + after)).compose(resp -> {
      assertThat(resp.statusCode()).as(resp.bodyAsString()).isEqualTo(200);
      JsonObject answer = resp.bodyAsJsonObject();
      answers.add(answer);
      String next = answer.getString("next");
      return next == null ? Future.succeededFuture(answers) : pages(path, next, answers);
    });
  }

  @Test
  @DisplayName("a crawl's export is every page it stored, one JSON object a line with the formats asked for, read "
      + "back by Python's json, plain and gzip-compressed; a job's listing carries the same formats")
  void crawlExport(VertxTestContext ctx) {
    Set<String> expected = TestSite.pages(site.reachable(2, link -> true));
    JobClient.crawl(fb, new JsonObject().put("url", site.url("/p/0")).put("sitemap", "skip").put("maxDepth", 2))
        .compose(id -> JobClient.finished(fb, "/v1/crawls/" + id).compose(job -> Future.all(
                fb.http.get("/v1/crawls/" + id + "/export?formats=text,links").send(),
                fb.http.get("/v1/crawls/" + id + "/export?formats=text,links").putHeader("Accept-Encoding", "gzip").send(),
                fb.get("/v1/crawls/" + id + "/pages?formats=text&limit=3"),
                fb.get("/v1/crawls/" + UUID.randomUUID() + "/export"))
            .compose(all -> {
              HttpResponse<Buffer> plain = all.resultAt(0);
              HttpResponse<Buffer> gzip = all.resultAt(1);
              HttpResponse<Buffer> listing = all.resultAt(2);
              HttpResponse<Buffer> unknown = all.resultAt(3);
              ctx.verify(() -> {
                assertThat(plain.statusCode()).as(plain.bodyAsString()).isEqualTo(200);
                assertThat(plain.getHeader("Content-Type")).startsWith("application/jsonl");
                assertThat(plain.getHeader("Content-Disposition")).isEqualTo("attachment; filename=\"crawl-" + id + ".jsonl\"");
                assertThat(gzip.getHeader("Content-Encoding")).isEqualTo("gzip");
                JsonArray items = listing.bodyAsJsonObject().getJsonArray("items");
                assertThat(items).hasSize(3);
                assertThat(items.getJsonObject(0).getString("text")).isNotBlank();
                assertThat(unknown.statusCode()).isEqualTo(404);
                assertThat(unknown.getHeader("Content-Type")).isEqualTo("application/problem+json");
              });
              return Future.all(python(plain.body(), "plain"), python(gzip.body(), "gzip"));
            }))
            .map(read -> {
              ctx.verify(() -> {
                for (int i = 0; i < 2; i++) {
                  List<String> urls = read.resultAt(i);
                  assertThat(urls).as("one line per page").hasSize(expected.size());
                  assertThat(urls.stream().map(u -> URI.create(u).getPath()).toList())
                      .containsExactlyInAnyOrderElementsOf(expected);
                }
              });
              return null;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  /** The URLs Python's reader found in {@code body}, one per line of the export. */
  private Future<List<String>> python(Buffer body, String encoding) {
    return vertx.executeBlocking(() -> {
      Path file = Files.createTempFile("export", ".jsonl");
      try {
        Files.write(file, body.getBytes());
        Process p = new ProcessBuilder("python3", "-c", PYTHON_READER, file.toString(), encoding)
            .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
          throw new IOException("python3 could not read the export: " + out);
        }
        return out.lines().toList();
      } finally {
        Files.deleteIfExists(file);
      }
    });
  }
}
