package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.JobClient;
import io.fetchbus.support.Poll;
import io.fetchbus.support.SavedPages;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.fetchbus.support.TestSite;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Pages deleted by id, with their job, and by retention: the body goes with its last page and not before, search and
 * every cache stop answering with them, and what retention keeps stays.
 */
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class DeletionTest extends TestBase {
  private static final String SHARED = "<html><title>shared</title><p>photovoltaic shared body</p></html>";

  private Future<Long> save(String url, String body, String text, Instant fetchedAt) {
    JsonObject page = SavedPages.html(url, body, "title of " + url, text).put("fetchId", UUID.randomUUID().toString());
    if (fetchedAt != null) {
      page.put("fetchedAt", fetchedAt.toString());
    }
    return vertx.eventBus().<JsonObject>request(Bus.PAGES_SAVE, page)
        .map(m -> m.body().getJsonObject("page").getLong("id"));
  }

  private Future<Long> bodies() {
    return TestDatabase.count(vertx, "SELECT count(*) FROM contents");
  }

  @Test
  @DisplayName("DELETE /v1/pages/{id}: 204, then 404; a body shared by two pages stays until the second goes; the "
      + "page leaves search and the node's record cache, and a second delete is a 404")
  void deleteById(VertxTestContext ctx) {
    long[] ids = new long[2];
    int[] status = new int[4];
    long[] bodies = new long[2];
    JsonObject[] problem = new JsonObject[1];
    ServiceUnderTest.fresh(vertx, new JsonObject())
        .compose(f -> {
          fb = f;
          return Future.all(save("http://del.test/a", SHARED, "photovoltaic panels", null),
              save("http://del.test/b", SHARED, "photovoltaic roofs", null));
        })
        .compose(saved -> {
          ids[0] = saved.resultAt(0);
          ids[1] = saved.resultAt(1);
          // Both are searchable first, so that their absence afterwards says something.
          return Poll.until(vertx, () -> fb.get("/v1/search?q=photovoltaic")
                  .map(r -> r.bodyAsJsonObject().getJsonArray("items").size() == 2))
              .compose(v -> fb.get("/v1/pages/" + ids[0])); // read once: now held in this node's record cache
        })
        .compose(read -> fb.http.delete("/v1/pages/" + ids[0]).send())
        .compose(first -> {
          status[0] = first.statusCode();
          return fb.get("/v1/pages/" + ids[0]);
        })
        .compose(gone -> {
          status[1] = gone.statusCode();
          return bodies();
        })
        .compose(afterOne -> {
          bodies[0] = afterOne;
          return fb.http.delete("/v1/pages/" + ids[0]).send();
        })
        .compose(again -> {
          status[2] = again.statusCode();
          problem[0] = new JsonObject().put("type", again.getHeader("Content-Type"));
          return fb.http.delete("/v1/pages/" + ids[1]).send();
        })
        .compose(second -> {
          status[3] = second.statusCode();
          return bodies();
        })
        .compose(afterBoth -> {
          bodies[1] = afterBoth;
          return fb.get("/v1/search?q=photovoltaic");
        })
        .map(search -> {
          ctx.verify(() -> {
            assertThat(status[0]).isEqualTo(204);
            assertThat(status[1]).as("read after delete, though it was cached").isEqualTo(404);
            assertThat(bodies[0]).as("the shared body stays while page b uses it").isEqualTo(1);
            assertThat(status[2]).isEqualTo(404);
            assertThat(problem[0].getString("type")).isEqualTo("application/problem+json");
            assertThat(status[3]).isEqualTo(204);
            assertThat(bodies[1]).as("the body goes with its last page").isZero();
            assertThat(search.bodyAsJsonObject().getJsonArray("items")).isEmpty();
          });
          return null;
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a fetched page deleted is gone from the fetch cache and the hot records too: the same fetch with "
      + "maxAgeSeconds goes upstream again and stores a new page")
  void deletedFetchGoesUpstreamAgain(VertxTestContext ctx) {
    JsonObject fetch = new JsonObject().put("maxAgeSeconds", 3600);
    TestSite.start(vertx, 5)
        .compose(site -> ServiceUnderTest.fresh(vertx, new JsonObject()).compose(f -> {
          fb = f;
          fetch.put("url", site.url("/p/1"));
          return fb.postFetch(fetch)
              .compose(first -> fb.postFetch(fetch).compose(cached -> fb.http.delete("/v1/pages/"
                      + first.bodyAsJsonObject().getLong("id")).send()
                  .compose(deleted -> fb.postFetch(fetch)).map(again -> {
                    ctx.verify(() -> {
                      assertThat(first.statusCode()).isEqualTo(201);
                      assertThat(cached.statusCode()).as("answered from memory").isEqualTo(200);
                      assertThat(again.statusCode()).as(again.bodyAsString()).isEqualTo(201);
                      assertThat(again.bodyAsJsonObject().getLong("id")).isNotEqualTo(first.bodyAsJsonObject().getLong("id"));
                      assertThat(site.hits("/p/1")).as("fetched upstream twice").isEqualTo(2);
                    });
                    return null;
                  })));
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("retention: pages older than pagesDays and failures older than failedDays go in the background, "
      + "the newer stay, and the metric counts them")
  void retention(VertxTestContext ctx) {
    Instant old = Instant.now().minus(10, ChronoUnit.DAYS);
    Instant recent = Instant.now().minus(1, ChronoUnit.DAYS);
    ServiceUnderTest.fresh(vertx, new JsonObject().put("retention", new JsonObject().put("pagesDays", 5).put("failedDays", 1)
            .put("everyMs", 1_000)))
        .compose(f -> {
          fb = f;
          JsonObject failedOld = new JsonObject().put("url", "http://ret.test/failed-old").put("fetchedAt",
              old.toString()).put("error", "connection refused").put("errorClass", "connect-failed");
          JsonObject failedRecent = failedOld.copy().put("url", "http://ret.test/failed-recent")
              .put("fetchedAt", Instant.now().minus(2, ChronoUnit.DAYS).toString());
          return Future.all(save("http://ret.test/old", "<html><title>old</title>old</html>", "old", old),
              save("http://ret.test/recent", "<html><title>recent</title>recent</html>", "recent", recent),
              vertx.eventBus().request(Bus.PAGES_SAVE, failedOld), vertx.eventBus().request(Bus.PAGES_SAVE, failedRecent));
        })
        .compose(saved -> Poll.until(vertx, () -> TestDatabase.count(vertx, "SELECT count(*) FROM pages").map(n -> n == 1)))
        .compose(v -> TestDatabase.rows(vertx, "SELECT url FROM pages").compose(rows -> fb.get("/metrics")
            .map(metrics -> {
              ctx.verify(() -> {
                assertThat(rows).extracting(r -> r.getString("url")).containsExactly("http://ret.test/recent");
                assertThat(metrics.bodyAsString())
                    .contains("fetchbus_pages_deleted_total{reason=\"retention\"} 3.0");
              });
              return null;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("DELETE /v1/crawls/{id}?pages=true cancels the crawl and deletes every page it stored")
  void deleteJobPages(VertxTestContext ctx) {
    TestSite.start(vertx, 30)
        .compose(site -> ServiceUnderTest.fresh(vertx, new JsonObject()).compose(f -> {
          fb = f;
          return JobClient.crawl(fb, new JsonObject().put("url", site.url("/p/0")).put("sitemap", "skip").put("maxDepth", 2));
        }))
        .compose(id -> JobClient.finished(fb, "/v1/crawls/" + id)
            .compose(job -> fb.http.delete("/v1/crawls/" + id + "?pages=true").send())
            .compose(resp -> TestDatabase.count(vertx, "SELECT count(*) FROM pages WHERE job_id = '" + id + "'")
                .compose(left -> fb.get("/v1/crawls/" + id + "/pages").map(listing -> {
                  ctx.verify(() -> {
                    assertThat(resp.statusCode()).as(resp.bodyAsString()).isEqualTo(200);
                    assertThat(resp.bodyAsJsonObject().getInteger("deletedPages")).isPositive();
                    assertThat(left).isZero();
                    assertThat(listing.bodyAsJsonObject().getJsonArray("items")).isEmpty();
                  });
                  return null;
                }))))
        .onComplete(ctx.succeedingThenComplete());
  }
}
