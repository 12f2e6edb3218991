package io.fetchbus.crawl;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.WatchClient;
import io.fetchbus.support.TestBase;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Site watches ({@code crawl} instead of {@code urls}) against a real site on 127.0.0.1 whose pages the test changes
 * between runs. Runs are started with {@code POST /v1/watches/{id}/run} (the test's clock: the scheduler's poll is an
 * hour, so nothing runs by itself); each is a crawl job through the frontier.
 */
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class SiteWatchTest extends TestBase {
  private static final String LOREM = """
      Fetchbus keeps a whole site fresh and says when something really changed on one of its pages. Each run crawls
      the site as a crawl job does, through the frontier, and compares the main text of every page it reaches with
      the last version it kept, so that a timestamp or a token that changes on every request raises no alert.""";

  /** The site: path -> HTML; a path that is not here answers 404. */
  private final Map<String, String> pages = new ConcurrentHashMap<>();
  private HttpServer site;

  @BeforeEach
  void start(VertxTestContext ctx) {
    vertx.createHttpServer().requestHandler(this::serve).listen(0, "127.0.0.1")
        .onSuccess(s -> site = s)
        .onComplete(ctx.succeedingThenComplete());
  }

  private void serve(HttpServerRequest req) {
    String body = pages.get(req.path());
    if (body == null) {
      req.response().setStatusCode(404).end("not here");
      return;
    }
    req.response().putHeader("Content-Type", "text/html; charset=utf-8").end(body);
  }

  private String url(String path) {
    return "http://127.0.0.1:" + site.actualPort() + path;
  }

  /** A page: LOREM, a paragraph of its own, a rendering time (noise), and links. */
  private static String html(String paragraph, String time, String... links) {
    StringBuilder a = new StringBuilder();
    for (String link : links) {
      a.append("<p><a href=").append(link).append(">Go to ").append(link).append("</a></p>");
    }
    return "<html><head><title>t</title></head><body><nav>Signed in at " + time + "</nav><main><h1>Page</h1><p>"
        + LOREM + "</p><p>" + paragraph + "</p><p>Rendered at " + time + "</p>" + a + "</main></body></html>";
  }

  private Future<Void> deploy(JsonObject watches) {
    return ServiceUnderTest.fresh(vertx, WatchClient.config(watches)).onSuccess(f -> fb = f).mapEmpty();
  }

  private Future<HttpResponse<Buffer>> create(JsonObject spec) {
    return WatchClient.create(fb, spec);
  }

  private Future<JsonObject> run(String id) {
    return WatchClient.run(fb, id);
  }

  /** url -> changeStatus (or "error: ..." for a URL whose check failed) of a run's results. */
  private static Map<String, String> statuses(JsonObject run) {
    return run.getJsonArray("results").stream().map(JsonObject.class::cast).collect(Collectors.toMap(
        r -> r.getString("url"), r -> r.getString("changeStatus") == null ? "error: " + r.getString("error")
            : r.getString("changeStatus")));
  }

  @Test
  @DisplayName("each run crawls the site: every page reached is new at first, then exactly the real change is "
      + "changed, noise is same, a 404 and a page no longer linked are removed, and they are new again once back")
  void detectsChangesAcrossASite(VertxTestContext ctx) {
    pages.put("/", html("The home page.", "10:00", "/a", "/b", "/c"));
    pages.put("/a", html("Page a says the price is 10 euros.", "10:00"));
    pages.put("/b", html("Page b is stable.", "10:00"));
    pages.put("/c", html("Page c links to d.", "10:00", "/d"));
    pages.put("/d", html("Page d is only linked from c.", "10:00"));
    JsonObject crawl = new JsonObject().put("url", url("/")).put("maxDepth", 3).put("sitemap", "skip");
    String[] id = new String[1];
    deploy(new JsonObject())
        .compose(v -> create(new JsonObject().put("crawl", crawl).put("threshold", 6)))
        .compose(created -> {
          ctx.verify(() -> {
            assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
            JsonObject w = created.bodyAsJsonObject();
            assertThat(w.getJsonObject("crawl").getInteger("limit")).as("watches.maxUrls by default").isEqualTo(100);
            assertThat(w.getJsonObject("crawl").getString("url")).isEqualTo(url("/"));
            assertThat(w.getJsonArray("urls")).isEmpty();
          });
          id[0] = created.bodyAsJsonObject().getString("id");
          return run(id[0]);
        })
        .compose(first -> {
          ctx.verify(() -> assertThat(statuses(first)).as(first.encodePrettily()).isEqualTo(Map.of(url("/"), "new",
              url("/a"), "new", url("/b"), "new", url("/c"), "new", url("/d"), "new")));
          // a real change on a, noise only on b and the home page, c gone (404) and with it the only link to d
          pages.put("/", html("The home page.", "11:11", "/a", "/b", "/c"));
          pages.put("/a", html("Page a says the price is now 25 euros, with a yearly discount for every plan.",
              "11:11"));
          pages.put("/b", html("Page b is stable.", "11:11"));
          pages.remove("/c");
          return run(id[0]);
        })
        .compose(second -> {
          ctx.verify(() -> {
            assertThat(statuses(second)).as(second.encodePrettily()).isEqualTo(Map.of(url("/"), "same",
                url("/a"), "changed", url("/b"), "same", url("/c"), "removed", url("/d"), "removed"));
            JsonObject c = second.getJsonArray("results").stream().map(JsonObject.class::cast)
                .filter(r -> r.getString("url").equals(url("/c"))).findFirst().orElseThrow();
            assertThat(c.getInteger("status")).as("reached as a 404").isEqualTo(404);
            JsonObject d = second.getJsonArray("results").stream().map(JsonObject.class::cast)
                .filter(r -> r.getString("url").equals(url("/d"))).findFirst().orElseThrow();
            assertThat(d.getInteger("status")).as("not reached at all").isNull();
            assertThat(d.getLong("pageId")).isNull();
          });
          return fb.get("/v1/watches/" + id[0] + "/changes?url=" + url("/a"));
        })
        .compose(changesOfA -> {
          ctx.verify(() -> {
            JsonObject changed = changesOfA.bodyAsJsonObject().getJsonArray("items").getJsonObject(0);
            assertThat(changed.getString("changeStatus")).isEqualTo("changed");
            assertThat(changed.getString("diff")).contains("-Page a says the price is 10 euros.")
                .contains("+Page a says the price is now 25 euros");
            assertThat(changed.getLong("pageId")).as("the page the crawl stored").isNotNull();
          });
          return fb.get("/v1/watches/" + id[0]);
        })
        .compose(watch -> {
          ctx.verify(() -> {
            JsonObject w = watch.bodyAsJsonObject();
            assertThat(w.getInteger("runs")).isEqualTo(2);
            assertThat(w.getJsonArray("urls").stream().map(u -> ((JsonObject) u).getString("url")))
                .as("removed pages are forgotten").containsExactlyInAnyOrder(url("/"), url("/a"), url("/b"));
          });
          pages.put("/c", html("Page c links to d.", "12:00", "/d"));
          return run(id[0]);
        })
        .compose(third -> {
          ctx.verify(() -> assertThat(statuses(third)).as(third.encodePrettily()).isEqualTo(Map.of(url("/"), "same",
              url("/a"), "same", url("/b"), "same", url("/c"), "new", url("/d"), "new")));
          return fb.get("/v1/crawls?limit=10");
        })
        .onComplete(ctx.succeeding(jobs -> ctx.verify(() -> {
          JsonArray items = jobs.bodyAsJsonObject().getJsonArray("items");
          assertThat(items).as("one crawl job per run").hasSize(3);
          assertThat(items.stream().map(j -> ((JsonObject) j).getString("status"))).containsOnly("completed");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a run compares at most watches.maxUrls pages: the crawl stops there, and the pages it did not get to "
      + "are not reported removed")
  void boundedByMaxUrls(VertxTestContext ctx) {
    pages.put("/", html("The home page.", "1", "/p1", "/p2", "/p3", "/p4", "/p5"));
    for (int i = 1; i <= 5; i++) {
      pages.put("/p" + i, html("Page number " + i + " of the site.", "1"));
    }
    String[] id = new String[1];
    deploy(new JsonObject().put("maxUrls", 3))
        .compose(v -> create(new JsonObject().put("crawl", new JsonObject().put("url", url("/"))
            .put("sitemap", "skip"))))
        .compose(created -> {
          ctx.verify(() -> assertThat(created.bodyAsJsonObject().getJsonObject("crawl").getInteger("limit"))
              .isEqualTo(3));
          id[0] = created.bodyAsJsonObject().getString("id");
          return run(id[0]);
        })
        .compose(first -> {
          ctx.verify(() -> {
            assertThat(first.getJsonArray("results")).hasSize(3);
            assertThat(statuses(first).values()).containsOnly("new");
          });
          pages.put("/p1", html("Page number 1 was rewritten from top to bottom with new prices and new terms.", "2"));
          return run(id[0]);
        })
        .compose(second -> {
          ctx.verify(() -> {
            assertThat(second.getJsonArray("results").size()).isLessThanOrEqualTo(3);
            assertThat(statuses(second).values()).as(second.encodePrettily()).doesNotContain("removed");
          });
          return fb.get("/v1/watches/" + id[0]);
        })
        .onComplete(ctx.succeeding(watch -> ctx.verify(() -> {
          assertThat(watch.bodyAsJsonObject().getJsonArray("urls").size()).isLessThanOrEqualTo(3);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a bad site watch is refused with a problem+json 400 whose detail names the field of the crawl spec")
  void badCrawlSpecs(VertxTestContext ctx) {
    JsonObject crawl = new JsonObject().put("url", url("/"));
    List<JsonObject> bad = List.of(
        new JsonObject().put("crawl", crawl).put("urls", new JsonArray().add(url("/"))),
        new JsonObject().put("crawl", crawl.copy().put("limit", 4)),
        new JsonObject().put("crawl", crawl.copy().put("webhook", new JsonObject().put("url", url("/hook")))),
        new JsonObject().put("crawl", crawl.copy().put("formats", new JsonArray().add("markdown"))),
        new JsonObject().put("crawl", crawl.copy().put("includePaths", new JsonArray().add("(unclosed"))),
        new JsonObject().put("crawl", crawl.copy().put("maxDepth", 500)),
        new JsonObject().put("crawl", crawl.copy().put("pathPrefix", "no-slash")),
        new JsonObject().put("crawl", new JsonObject().put("maxDepth", 1)),
        new JsonObject().put("crawl", crawl.copy().put("depth", 1)),
        new JsonObject());
    List<String> fields = List.of("crawl:", "crawl.limit:", "crawl.webhook:", "crawl.formats:",
        "crawl.includePaths[0]:", "crawl.maxDepth", "crawl.pathPrefix:", "crawl.url", "crawl.depth", "urls:");
    deploy(new JsonObject().put("maxUrls", 3))
        .compose(v -> {
          List<Future<HttpResponse<Buffer>>> answers = bad.stream().map(this::create).toList();
          return Future.all(answers).map(all -> answers.stream().map(Future::result).toList());
        })
        .onComplete(ctx.succeeding(answers -> ctx.verify(() -> {
          for (int i = 0; i < answers.size(); i++) {
            HttpResponse<Buffer> answer = answers.get(i);
            assertThat(answer.statusCode()).as(bad.get(i) + " -> " + answer.bodyAsString()).isEqualTo(400);
            assertThat(answer.getHeader("Content-Type")).startsWith("application/problem+json");
            assertThat(answer.bodyAsJsonObject().getString("detail")).as(bad.get(i).encode())
                .startsWith(fields.get(i));
          }
          ctx.completeNow();
        })));
  }
}
