package io.fetchbus.crawl;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import io.fetchbus.support.CrawlSetup;
import io.fetchbus.support.JobClient;
import io.fetchbus.support.Poll;
import io.fetchbus.support.Scrape;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.fetchbus.support.TestSite;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class CrawlTest extends TestBase {
  private TestSite site;

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    CrawlSetup.start(vertx, 120)
        .onSuccess(started -> {
          site = started.site();
          fb = started.fb();
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  private static Set<String> paths(List<JsonObject> pages) {
    return pages.stream().map(p -> URI.create(p.getString("url")).getPath()).collect(Collectors.toSet());
  }

  @Test
  @DisplayName("a crawl of depth 2 stores exactly the pages within two links of the seed, once each, and reports robots blocks")
  void exactPageSet(VertxTestContext ctx) {
    Map<String, Integer> reachable = site.reachable(2, link -> true);
    Set<String> expectedPages = TestSite.pages(reachable);
    Set<String> expectedPrivate = reachable.keySet().stream().filter(p -> p.startsWith("/private/")).collect(Collectors.toSet());
    Set<String> expectedFailing = reachable.keySet().stream().filter(p -> p.startsWith("/fail/")).collect(Collectors.toSet());
    JobClient.crawl(fb, CrawlSetup.linksOnly(site).put("maxDepth", 2))
        .compose(id -> JobClient.finished(fb, "/v1/crawls/" + id)
            .compose(job -> JobClient.all(fb, "/v1/crawls/" + id + "/pages")
                .compose(pages -> JobClient.all(fb, "/v1/crawls/" + id + "/errors")
                    .compose(errors -> TestDatabase.count(vertx, "SELECT count(*) FROM pages WHERE job_id = '" + id + "'")
                        .map(rows -> {
                          ctx.verify(() -> {
                            assertThat(job.getString("status")).isEqualTo("completed");
                            assertThat(paths(pages)).isEqualTo(expectedPages);
                            assertThat(pages).hasSize(expectedPages.size());
                            assertThat(rows).isEqualTo(expectedPages.size());
                            assertThat(job.getInteger("completed")).isEqualTo(expectedPages.size());
                            assertThat(job.getInteger("robotsBlocked")).isEqualTo(expectedPrivate.size());
                            assertThat(job.getInteger("failed")).isEqualTo(expectedFailing.size());
                            assertThat(job.getInteger("total")).isEqualTo(reachable.size());
                            assertThat(job.getInteger("queued") + job.getInteger("inProgress")).isZero();
                            assertThat(job.getString("finishedAt")).isNotNull();
                            // Each page fetched once; robots-disallowed pages never; the other host never.
                            expectedPages.forEach(p -> assertThat(site.hits(p)).as(p).isEqualTo(1));
                            expectedPrivate.forEach(p -> assertThat(site.hits(p)).as(p).isZero());
                            assertThat(errors).extracting(e -> URI.create(e.getString("url")).getPath())
                                .containsExactlyInAnyOrderElementsOf(union(expectedPrivate, expectedFailing));
                            assertThat(errors).filteredOn(e -> e.getString("state").equals("robots"))
                                .allSatisfy(e -> assertThat(e.getString("errorClass")).isEqualTo("robots-disallowed"));
                            // A URL whose connection is always cut is discarded after maxAttempts, with its error.
                            assertThat(errors).filteredOn(e -> e.getString("state").equals("failed"))
                                .allSatisfy(e -> {
                                  assertThat(e.getInteger("attempts")).isEqualTo(2);
                                  assertThat(e.getString("error")).isNotBlank();
                                });
                          });
                          return null;
                        })))))
        .onComplete(ctx.succeedingThenComplete());
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> u = new java.util.HashSet<>(a);
    u.addAll(b);
    return u;
  }

  @Test
  @DisplayName("the job's counters equal its frontier rows, state by state")
  void countersAgreeWithRows(VertxTestContext ctx) {
    JobClient.crawl(fb, CrawlSetup.linksOnly(site).put("maxDepth", 3).put("limit", 20))
        .compose(id -> JobClient.finished(fb, "/v1/crawls/" + id).compose(job -> Future.all(List.of(
                TestDatabase.count(vertx, "SELECT count(*) FROM frontier WHERE job_id = '" + id + "' AND state = 'done'"),
                TestDatabase.count(vertx, "SELECT count(*) FROM frontier WHERE job_id = '" + id + "' AND state = 'skipped'"),
                TestDatabase.count(vertx, "SELECT count(*) FROM frontier WHERE job_id = '" + id + "' AND state = 'robots'"),
                TestDatabase.count(vertx, "SELECT count(*) FROM frontier WHERE job_id = '" + id + "' AND state = 'failed'"),
                TestDatabase.count(vertx, "SELECT count(*) FROM frontier WHERE job_id = '" + id + "'")))
            .map(counts -> {
              ctx.verify(() -> {
                assertThat(job.getInteger("completed")).isEqualTo(20);
                assertThat(counts.<Long>resultAt(0)).isEqualTo(20);
                assertThat(job.getInteger("skipped")).isEqualTo(counts.<Long>resultAt(1).intValue()).isPositive();
                assertThat(job.getInteger("robotsBlocked")).isEqualTo(counts.<Long>resultAt(2).intValue());
                assertThat(job.getInteger("failed")).isEqualTo(counts.<Long>resultAt(3).intValue());
                assertThat(job.getInteger("total")).isEqualTo(counts.<Long>resultAt(4).intValue());
              });
              return null;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("/metrics shows jobs and frontier entries by state, and counts the pages a crawl stored")
  void crawlMetrics(VertxTestContext ctx) {
    JobClient.crawl(fb, CrawlSetup.linksOnly(site).put("maxDepth", 1))
        .compose(id -> JobClient.finished(fb, "/v1/crawls/" + id))
        .compose(job -> scrapeUntil(s -> s.value("fetchbus_crawl_jobs", "state", "completed") == 1)
            .map(scrape -> {
              ctx.verify(() -> {
                assertThat(scrape.value("fetchbus_crawl_frontier_entries", "state", "done"))
                    .isEqualTo(job.getInteger("completed").doubleValue());
                assertThat(scrape.value("fetchbus_crawl_frontier_entries", "state", "robots"))
                    .isEqualTo(job.getInteger("robotsBlocked").doubleValue());
                assertThat(scrape.value("fetchbus_crawl_jobs", "state", "running")).isZero();
                assertThat(scrape.value("fetchbus_pages_stored_total", "result", "ok")).isEqualTo(job.getInteger("completed").doubleValue());
              });
              return null;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  private Future<Scrape> scrapeUntil(java.util.function.Predicate<Scrape> done) {
    return fb.get("/metrics").compose(resp -> {
      Scrape scrape = Scrape.parse(resp.bodyAsString());
      return scrape.has("fetchbus_crawl_jobs") && done.test(scrape) ? Future.succeededFuture(scrape)
          : vertx.timer(50).compose(t -> scrapeUntil(done));
    });
  }

  @Test
  @DisplayName("over the event bus: crawl.submit, progress published until completed, crawl.status, crawl.cancel of an ended job")
  void overTheBus(VertxTestContext ctx) {
    var bus = vertx.eventBus();
    java.util.List<JsonObject> progress = new java.util.concurrent.CopyOnWriteArrayList<>();
    io.vertx.core.Promise<JsonObject> completed = io.vertx.core.Promise.promise();
    bus.<JsonObject>consumer(io.fetchbus.bus.Bus.CRAWL_PROGRESS, msg -> {
      progress.add(msg.body());
      if ("completed".equals(msg.body().getString("status"))) {
        completed.tryComplete(msg.body());
      }
    }).completion()
        .compose(v -> bus.<JsonObject>request(io.fetchbus.bus.Bus.CRAWL_SUBMIT, new JsonObject().put("kind", "crawl")
            .put("spec", CrawlSetup.linksOnly(site).put("maxDepth", 1))))
        .compose(submitted -> completed.future().compose(done -> bus.<JsonObject>request(io.fetchbus.bus.Bus.CRAWL_STATUS,
                new JsonObject().put("id", submitted.body().getString("id")))
            .compose(status -> bus.<JsonObject>request(io.fetchbus.bus.Bus.CRAWL_CANCEL,
                    new JsonObject().put("id", submitted.body().getString("id")))
                .compose(cancel -> bus.<JsonObject>request(io.fetchbus.bus.Bus.CRAWL_SUBMIT,
                        new JsonObject().put("kind", "crawl").put("spec", new JsonObject().put("url", "gopher://x/")))
                    .transform(bad -> {
                      ctx.verify(() -> {
                        assertThat(submitted.body().getString("status")).isEqualTo("queued");
                        assertThat(done.getString("id")).isEqualTo(submitted.body().getString("id"));
                        assertThat(status.body().getInteger("completed"))
                            .isEqualTo(TestSite.pages(site.reachable(1, l -> true)).size());
                        assertThat(cancel.body().getString("status")).isEqualTo("completed"); // an ended job stays as it ended
                        assertThat(progress).extracting(p -> p.getString("status")).contains("running", "completed");
                        assertThat(((io.vertx.core.eventbus.ReplyException) bad.cause()).failureCode()).isEqualTo(400);
                        assertThat(bad.cause().getMessage()).startsWith("url:");
                      });
                      return Future.succeededFuture();
                    })))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("the limit is a hard cap on pages stored and fetched, even with many fetches in flight")
  void limitUnderConcurrency(VertxTestContext ctx) {
    JobClient.crawl(fb, CrawlSetup.linksOnly(site).put("maxDepth", 10).put("limit", 9))
        .compose(id -> JobClient.finished(fb, "/v1/crawls/" + id)
            .compose(job -> TestDatabase.count(vertx, "SELECT count(*) FROM pages WHERE job_id = '" + id + "'")
                .map(rows -> {
                  ctx.verify(() -> {
                    assertThat(job.getString("status")).isEqualTo("completed");
                    assertThat(rows).isEqualTo(9);
                    assertThat(job.getInteger("completed")).isEqualTo(9);
                    long pagesFetched = site.requested().stream().filter(p -> p.startsWith("/p/")).count();
                    assertThat(pagesFetched).isEqualTo(9);
                  });
                  return null;
                })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("excludePaths and includePaths select the links followed; the seed is always fetched")
  void patterns(VertxTestContext ctx) {
    // Pages whose number ends in 1 are excluded; only /p/ pages are included (so /private/ and /fail/ are not queued).
    Map<String, Integer> reachable = site.reachable(3, link -> link.startsWith("/p/") && !link.endsWith("1"));
    JobClient.crawl(fb, CrawlSetup.linksOnly(site).put("maxDepth", 3)
            .put("excludePaths", new JsonArray().add("1$")).put("includePaths", new JsonArray().add("^/p/")))
        .compose(id -> JobClient.finished(fb, "/v1/crawls/" + id)
            .compose(job -> JobClient.all(fb, "/v1/crawls/" + id + "/pages").map(pages -> {
              ctx.verify(() -> {
                assertThat(paths(pages)).isEqualTo(TestSite.pages(reachable));
                assertThat(job.getInteger("robotsBlocked")).isZero();
                assertThat(job.getInteger("total")).isEqualTo(reachable.size());
              });
              return null;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("allowExternalLinks follows links to another host; by default they are not followed")
  void externalLinks(VertxTestContext ctx) {
    JobClient.crawl(fb, CrawlSetup.linksOnly(site).put("maxDepth", 1).put("allowExternalLinks", true)
            .put("excludePaths", new JsonArray().add("^/(private|fail)/")))
        .compose(id -> JobClient.finished(fb, "/v1/crawls/" + id)
            .compose(job -> JobClient.all(fb, "/v1/crawls/" + id + "/pages").map(pages -> {
              ctx.verify(() -> assertThat(pages).extracting(p -> URI.create(p.getString("url")).getHost())
                  .contains("localhost", "127.0.0.1"));
              return null;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a retried submission with the same Idempotency-Key returns the same job")
  void idempotencyKey(VertxTestContext ctx) {
    JsonObject spec = CrawlSetup.linksOnly(site).put("maxDepth", 0);
    Future<JsonObject> first = fb.http.post("/v1/crawls").putHeader("Idempotency-Key", "abc-123").sendJsonObject(spec)
        .map(r -> r.bodyAsJsonObject());
    first.compose(a -> fb.http.post("/v1/crawls").putHeader("Idempotency-Key", "abc-123").sendJsonObject(spec)
            .compose(b -> TestDatabase.count(vertx, "SELECT count(*) FROM crawl_jobs").map(jobs -> {
              ctx.verify(() -> {
                assertThat(b.statusCode()).isEqualTo(202);
                assertThat(b.bodyAsJsonObject().getString("id")).isEqualTo(a.getString("id"));
                assertThat(b.bodyAsJsonObject().getBoolean("created")).isFalse();
                assertThat(a.getBoolean("created")).isTrue();
                assertThat(jobs).isEqualTo(1);
              });
              return null;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("cancelling a running crawl starts no new fetch; it ends cancelled and keeps the pages it stored")
  void cancel(VertxTestContext ctx) {
    site.hold();
    JobClient.crawl(fb, CrawlSetup.linksOnly(site).put("maxDepth", 5))
        .compose(id -> JobClient.await(fb, "/v1/crawls/" + id, job -> site.heldCount() >= 1 && job.getInteger("inProgress") >= 1)
            .compose(running -> fb.http.delete("/v1/crawls/" + id).send())
            .compose(cancelled -> {
              int requestedAtCancel = site.requested().size();
              site.release();
              return JobClient.await(fb, "/v1/crawls/" + id, job -> job.getInteger("inProgress") == 0)
                  .compose(job -> JobClient.all(fb, "/v1/crawls/" + id + "/pages").map(pages -> {
                    ctx.verify(() -> {
                      assertThat(cancelled.statusCode()).isEqualTo(200);
                      assertThat(cancelled.bodyAsJsonObject().getString("status")).isEqualTo("cancelled");
                      assertThat(job.getString("status")).isEqualTo("cancelled");
                      // Only what was in flight at the cancel was fetched: the seed, and no page after it.
                      assertThat(site.requested()).hasSize(requestedAtCancel);
                      assertThat(paths(pages)).containsExactly("/p/0");
                      assertThat(job.getInteger("queued")).isZero();
                    });
                    return null;
                  }));
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a POST /v1/fetch with maxAgeSeconds right after a crawl stored the URL answers 200 with the crawl's page and stores nothing")
  void fetchAfterCrawlReusesItsPage(VertxTestContext ctx) {
    String seed = site.url("/p/0");
    JobClient.crawl(fb, CrawlSetup.linksOnly(site).put("maxDepth", 1))
        .compose(id -> JobClient.finished(fb, "/v1/crawls/" + id).compose(job -> JobClient.all(fb, "/v1/crawls/" + id + "/pages")))
        .compose(pages -> TestDatabase.count(vertx, "SELECT count(*) FROM pages").compose(before ->
            fb.postFetch(new JsonObject().put("url", seed).put("maxAgeSeconds", 3600))
                .compose(resp -> TestDatabase.count(vertx, "SELECT count(*) FROM pages").map(after -> {
                  ctx.verify(() -> {
                    JsonObject crawled = pages.stream().filter(p -> p.getString("url").equals(seed)).findFirst().orElseThrow();
                    assertThat(resp.statusCode()).as(resp.bodyAsString()).isEqualTo(200);
                    JsonObject page = resp.bodyAsJsonObject();
                    assertThat(page.getLong("id")).isEqualTo(crawled.getLong("id"));
                    assertThat(page.getString("fetchId")).isEqualTo(crawled.getString("fetchId"));
                    assertThat(page.getBoolean("fromCache")).isTrue();
                    assertThat(after).isEqualTo(before);
                    assertThat(site.hits("/p/0")).isEqualTo(1);
                  });
                  return null;
                }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a POST /v1/fetch that joined a crawl's fetch and stored its page first leaves the crawl a page of its own")
  void joinedFetchStoredFirst(VertxTestContext ctx) {
    String seed = site.url("/p/0");
    // The crawl's completion waits until the joined POST has answered, so the POST stores the fetch's page first.
    Promise<Void> posted = Promise.promise();
    vertx.eventBus().addOutboundInterceptor((DeliveryContext<Object> dc) -> {
      if (Bus.FRONTIER_COMPLETE.equals(dc.message().address()) && !posted.future().isComplete()) {
        Context context = Vertx.currentContext();
        posted.future().onComplete(v -> context.runOnContext(x -> dc.next()));
      } else {
        dc.next();
      }
    });
    site.hold();
    JobClient.crawl(fb, CrawlSetup.linksOnly(site).put("maxDepth", 0))
        .compose(id -> Poll.until(vertx, () -> Future.succeededFuture(site.heldCount() == 1))
            .compose(v -> {
              Future<io.vertx.ext.web.client.HttpResponse<io.vertx.core.buffer.Buffer>> post =
                  fb.postFetch(new JsonObject().put("url", seed));
              return Poll.until(vertx, () -> fb.get("/v1/cache").map(r -> r.bodyAsJsonObject().getLong("joins") == 1))
                  .compose(joined -> {
                    site.release();
                    return post;
                  });
            })
            .compose(resp -> {
              posted.complete();
              return JobClient.finished(fb, "/v1/crawls/" + id)
                  .compose(job -> JobClient.all(fb, "/v1/crawls/" + id + "/pages").map(pages -> {
                    ctx.verify(() -> {
                      assertThat(resp.statusCode()).as(resp.bodyAsString()).isEqualTo(201);
                      assertThat(job.getString("status")).isEqualTo("completed");
                      assertThat(job.getInteger("completed")).isEqualTo(1);
                      assertThat(job.getInteger("failed")).isZero();
                      assertThat(pages).hasSize(1);
                      assertThat(pages.get(0).getString("url")).isEqualTo(seed);
                      assertThat(pages.get(0).getLong("id")).isNotEqualTo(resp.bodyAsJsonObject().getLong("id"));
                      assertThat(site.hits("/p/0")).isEqualTo(1);
                    });
                    return null;
                  }));
            }))
        .onComplete(ctx.succeedingThenComplete());
  }
}
