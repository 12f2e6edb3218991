package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import io.fetchbus.support.Poll;
import io.fetchbus.support.SavedPages;
import io.fetchbus.support.Scrape;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Search indexing: a fetched page is stored with its search vector; a page saved without one (over the bus, or
 * while search was off) becomes searchable after the lag the answers report, made by the background indexer in
 * batches; with search turned off, pages wait unindexed for it to be turned on.
 */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class SearchIndexingTest extends TestBase {

  private static JsonObject search(JsonObject settings) {
    return new JsonObject().put("search", settings);
  }

  /** Saves a page over the bus, as a verticle or a bridge client may, with {@code word} in its text. */
  private Future<Long> save(int n, String word) {
    String body = "<html><title>Page " + n + "</title><p>" + word + " number " + n + "</p></html>";
    JsonObject page = SavedPages.html("http://indexing.test/page/" + n, body, "Page " + n, word + " number " + n);
    return vertx.eventBus().<JsonObject>request(Bus.PAGES_SAVE, page)
        .map(reply -> reply.body().getJsonObject("page").getLong("id"));
  }

  /** Saves pages {@code from} to {@code to - 1}, 50 at a time (the store's wait queue is bounded). */
  private Future<Void> saveMany(int from, int to, String word) {
    if (from >= to) {
      return Future.succeededFuture();
    }
    List<Future<Long>> saves = new ArrayList<>();
    for (int i = from; i < Math.min(to, from + 50); i++) {
      saves.add(save(i, word));
    }
    return Future.all(saves).compose(v -> saveMany(from + 50, to, word));
  }

  private Future<JsonObject> searchFor(String word) {
    return fb.get("/v1/search?q=" + word + "&limit=100").map(resp -> {
      if (resp.statusCode() != 200) {
        throw new AssertionError("search answered " + resp.statusCode() + ": " + resp.bodyAsString());
      }
      return resp.bodyAsJsonObject();
    });
  }

  @Test
  @DisplayName("until the indexer's refresh, a stored page is not found and the answer's lag counts it")
  void lagIsReported(VertxTestContext ctx) {
    // A refresh of an hour: the indexer does not run during this test, so the page stays waiting.
    deployWithUpstream(search(new JsonObject().put("refreshMs", 3_600_000)))
        .compose(v -> save(1, "zeppelin"))
        .compose(id -> searchFor("zeppelin"))
        .onComplete(ctx.succeeding(answer -> ctx.verify(() -> {
          assertThat(answer.getJsonArray("items")).isEmpty();
          assertThat(answer.getJsonObject("lag").getLong("pages")).isEqualTo(1);
          assertThat(answer.getJsonObject("lag").getDouble("seconds")).isGreaterThanOrEqualTo(0);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a fetched page is found at once, with no indexer pass: it is stored with its search vector")
  void fetchedPageIsStoredSearchable(VertxTestContext ctx) {
    // A refresh of an hour: nothing but the save itself can make the page searchable during this test.
    deployWithUpstream(search(new JsonObject().put("refreshMs", 3_600_000)))
        .compose(v -> fb.postFetch(new JsonObject().put("url", up.url("/page/wombats"))))
        .compose(fetched -> searchFor("wombat").map(answer -> {
          ctx.verify(() -> {
            assertThat(fetched.statusCode()).isEqualTo(201);
            assertThat(answer.getJsonArray("items")).hasSize(1);
            assertThat(answer.getJsonArray("items").getJsonObject(0).getString("title")).isEqualTo("Page wombats");
            assertThat(answer.getJsonObject("lag").getLong("pages")).isZero();
          });
          return null;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("1,200 pages saved at once are all found after the lag, indexed in batches of batchSize, and /metrics counts them")
  void catchesUpInBatches(VertxTestContext ctx) {
    int pages = 1_200;
    deployWithUpstream(search(new JsonObject().put("refreshMs", 50).put("batchSize", 200)))
        // Counted from here: the indexer may have indexed a page an earlier test left before the tables were emptied.
        .compose(v -> caughtUp()).compose(v -> fb.get("/metrics"))
        .map(before -> Scrape.parse(before.bodyAsString()).value("fetchbus_search_indexed_pages_total"))
        .compose(before -> saveMany(0, pages, "quokka")
            .compose(v -> caughtUp())
            .compose(v -> TestDatabase.count(vertx, "SELECT count(*) FROM pages WHERE search @@ to_tsquery('english', 'quokka')"))
            .compose(found -> fb.get("/metrics").map(metrics -> {
          ctx.verify(() -> {
            assertThat(found).isEqualTo(pages);
            Scrape s = Scrape.parse(metrics.bodyAsString());
            assertThat(s.value("fetchbus_search_indexed_pages_total") - before).isEqualTo(pages);
            assertThat(s.has("fetchbus_search_lag_pages")).isTrue();
            assertThat(s.has("fetchbus_search_lag_seconds")).isTrue();
          });
          return null;
        })))
        .onComplete(ctx.succeedingThenComplete());
  }

  private Future<Void> caughtUp() {
    return Poll.until(vertx, () -> searchFor("quokka").map(a -> a.getJsonObject("lag").getLong("pages") == 0));
  }

  @Test
  @DisplayName("with search.enabled false, a search is a 404 problem and pages are kept unindexed for later")
  void turnedOff(VertxTestContext ctx) {
    deployWithUpstream(search(new JsonObject().put("enabled", false).put("refreshMs", 50)))
        .compose(v -> save(1, "narwhal"))
        .compose(id -> fb.get("/v1/search?q=narwhal"))
        .compose(resp -> TestDatabase.count(vertx, "SELECT count(*) FROM pages WHERE search IS NULL AND error IS NULL").map(waiting -> {
          ctx.verify(() -> {
            BadRequestTest.assertProblem(resp, 404, "/problems/not-found");
            assertThat(resp.bodyAsJsonObject().getString("detail")).contains("search.enabled");
            assertThat(waiting).isEqualTo(1);
          });
          return null;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }
}
