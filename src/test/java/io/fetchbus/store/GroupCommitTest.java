package io.fetchbus.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.SavedPages;
import io.fetchbus.support.Scrape;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Saves that arrive together are written in batches (group commit): each still gets its own answer, a fetch saved
 * twice is one page, a body shared by many pages is stored once, and a save the database refuses fails alone.
 */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class GroupCommitTest extends TestBase {
  private static final String SHARED_BODY = "<html><title>shared</title><p>the same body for every page</p></html>";

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    ServiceUnderTest.fresh(vertx, new JsonObject()).onSuccess(f -> fb = f).onComplete(ctx.succeedingThenComplete());
  }

  private static JsonObject save(String fetchId, int n, String text) {
    return SavedPages.html("http://batch.test/page/" + n, SHARED_BODY, "Page " + n, text).put("fetchId", fetchId);
  }

  @Test
  @DisplayName("200 concurrent saves of 100 fetches, each sent twice, plus one the database refuses: 100 pages, one body, one failure")
  void concurrentSaves(VertxTestContext ctx) {
    int fetches = 100;
    List<String> fetchIds = new ArrayList<>();
    List<Future<JsonObject>> replies = new ArrayList<>();
    for (int i = 0; i < fetches; i++) {
      fetchIds.add(UUID.randomUUID().toString());
    }
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < fetches; i++) {
        replies.add(vertx.eventBus().<JsonObject>request(Bus.PAGES_SAVE, save(fetchIds.get(i), i, "page " + i))
            .map(m -> m.body()));
      }
    }
    // PostgreSQL text cannot hold NUL: this save fails in the database, inside whichever batch it joined.
    Future<JsonObject> refused = vertx.eventBus().<JsonObject>request(Bus.PAGES_SAVE,
        save(UUID.randomUUID().toString(), 999, "a NUL \u0000 here")).map(m -> m.body());

    Future.join(replies).transform(all -> refused.transform(bad -> {
      ctx.verify(() -> {
        assertThat(bad.failed()).isTrue();
        assertThat(((ReplyException) bad.cause()).failureCode()).isEqualTo(Failure.INTERNAL.code);
      });
      return Future.succeededFuture();
    })).compose(v -> TestDatabase.count(vertx, "SELECT count(*) FROM pages")
        .compose(pages -> TestDatabase.count(vertx, "SELECT count(*) FROM contents").compose(contents -> metrics()
            .map(metrics -> {
          ctx.verify(() -> {
            // The saves arrived together: most of them went to PostgreSQL in batches of several.
            assertThat(metrics.value("fetchbus_store_group_commits_total")).isPositive();
            assertThat(metrics.value("fetchbus_store_group_committed_saves_total"))
                .isGreaterThan(metrics.value("fetchbus_store_group_commits_total"));
            Map<String, Long> idOf = new HashMap<>();
            int created = 0;
            for (int k = 0; k < replies.size(); k++) {
              assertThat(replies.get(k).succeeded()).as("save %d", k).isTrue();
              JsonObject reply = replies.get(k).result();
              JsonObject page = reply.getJsonObject("page");
              String fetchId = fetchIds.get(k % fetches);
              assertThat(page.getString("fetchId")).isEqualTo(fetchId);
              assertThat(page.getString("url")).isEqualTo("http://batch.test/page/" + (k % fetches));
              Long earlier = idOf.putIfAbsent(fetchId, page.getLong("id"));
              if (earlier != null) {
                assertThat(page.getLong("id")).isEqualTo(earlier);
              }
              created += reply.getBoolean("created") ? 1 : 0;
            }
            assertThat(created).isEqualTo(fetches);
            assertThat(idOf.values()).doesNotHaveDuplicates().hasSize(fetches);
            assertThat(pages).isEqualTo(fetches);
            assertThat(contents).isEqualTo(1);
          });
          return null;
        }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  private Future<Scrape> metrics() {
    return fb.get("/metrics").map(resp -> Scrape.parse(resp.bodyAsString()));
  }
}
