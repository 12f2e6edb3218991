package io.fetchbus.crawl;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FailureReplies;
import io.fetchbus.support.Poll;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.WatchClient;
import io.fetchbus.support.TestDatabase;
import io.fetchbus.support.Receiver;
import io.fetchbus.support.TestBase;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Watches against a real site on 127.0.0.1 whose pages the test changes between runs. Runs are started with
 * {@code POST /v1/watches/{id}/run} (the test's clock: the scheduler's poll is an hour, so nothing runs by itself),
 * except in the test of the scheduler.
 */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class WatchTest extends TestBase {
  private static final String SECRET = "whsec-watch-3c1d";
  private static final String LOREM = """
      Fetchbus keeps a set of pages fresh and says when something really changed on one of them. The watch compares
      the main text of each page, without its navigation, its footer or its scripts, with the last version it kept.
      A near duplicate test over word shingles lets a timestamp or a counter change without raising an alert, while
      a paragraph rewritten or removed is reported with a diff of the lines that moved and the links that came and
      went. Pages that disappear are reported as removed, and pages that answer not modified cost no body at all.
      Every run is recorded in PostgreSQL under a lease so that a node which dies in the middle loses nothing.""";

  /** The site: path -> {status, body, etag?}; requests as they came. */
  private final Map<String, JsonObject> pages = new ConcurrentHashMap<>();
  private final List<HttpServerRequest> requests = new CopyOnWriteArrayList<>();
  private final List<Integer> answered = new CopyOnWriteArrayList<>();
  private HttpServer site;
  private Receiver receiver;

  @BeforeEach
  void start(VertxTestContext ctx) {
    vertx.createHttpServer().requestHandler(this::serve).listen(0, "127.0.0.1")
        .compose(s -> {
          site = s;
          return Receiver.start(vertx);
        })
        .onSuccess(r -> receiver = r)
        .onComplete(ctx.succeedingThenComplete());
  }

  private void serve(HttpServerRequest req) {
    requests.add(req);
    JsonObject page = pages.get(req.path());
    if (page == null) {
      answered.add(404);
      req.response().setStatusCode(404).end("not here");
      return;
    }
    String etag = page.getString("etag");
    if (etag != null && etag.equals(req.getHeader("If-None-Match"))) {
      answered.add(304);
      req.response().setStatusCode(304).putHeader("ETag", etag).end();
      return;
    }
    answered.add(page.getInteger("status", 200));
    if (etag != null) {
      req.response().putHeader("ETag", etag);
    }
    Runnable answer = () -> req.response().setStatusCode(page.getInteger("status", 200))
        .putHeader("Content-Type", "text/html; charset=utf-8").end(page.getString("body"));
    if (page.getLong("delayMs") != null) {
      vertx.setTimer(page.getLong("delayMs"), t -> answer.run());
    } else {
      answer.run();
    }
  }

  private String url(String path) {
    return "http://127.0.0.1:" + site.actualPort() + path;
  }

  /** A page whose main text is LOREM, a paragraph, and a rendering time; a CSRF token and a footer around it. */
  private static String html(String paragraph, String time, String token, String link) {
    return "<html><head><title>t</title><meta name=csrf-token content=" + token + "></head><body>"
        + "<nav><a href=/home>Home</a> Signed in at " + time + "</nav>"
        + "<main><h1>Status</h1><p>" + LOREM + "</p><p>" + paragraph + "</p><p>Rendered at " + time + "</p>"
        + "<p><a href=" + link + ">Read more</a></p>"
        + "<form><input type=hidden name=csrf value=" + token + "></form></main>"
        + "<footer>Generated " + time + " token " + token + "</footer></body></html>";
  }

  private Future<Void> deploy(JsonObject watches) {
    return deploy(watches, new JsonObject());
  }

  private Future<Void> deploy(JsonObject watches, JsonObject more) {
    JsonObject config = more.copy().mergeIn(WatchClient.config(watches))
        .put("webhooks", new JsonObject().put("retryBaseMs", 20).put("retryMaxMs", 100).put("timeoutMs", 5_000));
    return ServiceUnderTest.fresh(vertx, config).onSuccess(f -> fb = f).mapEmpty();
  }

  private Future<HttpResponse<Buffer>> create(JsonObject spec) {
    return WatchClient.create(fb, spec);
  }

  private Future<JsonObject> run(String id) {
    return WatchClient.run(fb, id);
  }

  private static String statusOf(JsonObject run, String url) {
    return run.getJsonArray("results").stream().map(JsonObject.class::cast).filter(r -> r.getString("url").equals(url))
        .findFirst().orElseThrow().getString("changeStatus");
  }

  private Future<Void> until(Predicate<List<Receiver.Request>> done) {
    return done.test(receiver.received()) ? Future.succeededFuture() : vertx.timer(20).compose(t -> until(done));
  }

  @Test
  @DisplayName("runs report new, then same for noise and a 304, changed with the right diff, removed for a 404; "
      + "the interval adapts and the signed webhook carries the diff")
  void detectsRealChangesOnly(VertxTestContext ctx) {
    String a = url("/a");
    String b = url("/b");
    String c = url("/c");
    pages.put("/a", new JsonObject().put("body", html("The original paragraph says hello.", "12:00:01", "tok-1", "/one")));
    pages.put("/b", new JsonObject().put("body", html("Page b is stable.", "09:00:00", "tok-b", "/x"))
        .put("etag", "\"b-v1\""));
    pages.put("/c", new JsonObject().put("body", html("Page c will go away.", "09:00:00", "tok-c", "/y")));
    JsonObject spec = new JsonObject().put("urls", new JsonArray().add(a).add(b).add(c))
        .put("intervalSeconds", 1000).put("minIntervalSeconds", 100).put("maxIntervalSeconds", 3000)
        .put("threshold", 10)
        .put("webhook", new JsonObject().put("url", receiver.url("/hooks/watch")).put("secret", SECRET));
    String[] id = new String[1];
    deploy(new JsonObject())
        .compose(v -> create(spec))
        .compose(created -> {
          ctx.verify(() -> {
            assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
            JsonObject w = created.bodyAsJsonObject();
            assertThat(w.getJsonObject("webhook").getString("secret")).isEqualTo("***");
            assertThat(created.getHeader("Location")).isEqualTo("/v1/watches/" + w.getString("id"));
            assertThat(w.getInteger("threshold")).isEqualTo(10);
          });
          id[0] = created.bodyAsJsonObject().getString("id");
          return run(id[0]);
        })
        .compose(first -> {
          ctx.verify(() -> {
            assertThat(statusOf(first, a)).isEqualTo("new");
            assertThat(statusOf(first, b)).isEqualTo("new");
            assertThat(statusOf(first, c)).isEqualTo("new");
            assertThat(first.getLong("intervalSeconds")).as("a first run learns nothing").isEqualTo(1000);
          });
          return run(id[0]);
        })
        .compose(second -> {
          ctx.verify(() -> {
            assertThat(second.getJsonArray("results").stream().map(r -> ((JsonObject) r).getString("changeStatus")))
                .containsOnly("same");
            assertThat(second.getLong("intervalSeconds")).as("unchanged: x1.5").isEqualTo(1500);
            // b was revalidated: its second fetch sent the ETag and got a 304 without a body
            assertThat(requests.stream().filter(r -> r.path().equals("/b")).map(r -> r.getHeader("If-None-Match")))
                .containsExactly(null, "\"b-v1\"");
            assertThat(answered).contains(304);
          });
          // noise only: timestamps everywhere, a new CSRF token, the same main content
          pages.put("/a", new JsonObject().put("body", html("The original paragraph says hello.", "12:07:59", "tok-2",
              "/one")));
          return run(id[0]);
        })
        .compose(third -> {
          ctx.verify(() -> {
            assertThat(statusOf(third, a)).as(third.encodePrettily()).isEqualTo("same");
            assertThat(third.getLong("intervalSeconds")).isEqualTo(2250);
          });
          pages.put("/a", new JsonObject().put("body", html("A rewritten paragraph announces a new price of 42 euros "
              + "for every plan, with a discount for the first year and a new support line.", "12:09:00", "tok-3",
              "/two")));
          pages.remove("/c");
          return run(id[0]);
        })
        .compose(fourth -> {
          ctx.verify(() -> {
            assertThat(statusOf(fourth, a)).as(fourth.encodePrettily()).isEqualTo("changed");
            assertThat(statusOf(fourth, b)).isEqualTo("same");
            assertThat(statusOf(fourth, c)).isEqualTo("removed");
            assertThat(fourth.getLong("intervalSeconds")).as("changed: halved").isEqualTo(1125);
          });
          return fb.get("/v1/watches/" + id[0] + "/changes");
        })
        .compose(changes -> {
          ctx.verify(() -> {
            assertThat(changes.statusCode()).isEqualTo(200);
            JsonArray items = changes.bodyAsJsonObject().getJsonArray("items");
            // newest first: the removal and the change of run 4, then the three new pages of run 1
            assertThat(items.stream().map(i -> ((JsonObject) i).getString("changeStatus")))
                .containsExactlyInAnyOrder("removed", "changed", "new", "new", "new");
            JsonObject changed = items.stream().map(JsonObject.class::cast)
                .filter(i -> i.getString("changeStatus").equals("changed")).findFirst().orElseThrow();
            assertThat(changed.getString("url")).isEqualTo(a);
            assertThat(changed.getString("diff")).contains("-The original paragraph says hello.")
                .contains("+A rewritten paragraph announces a new price of 42 euros")
                .doesNotContain("12:07:59").doesNotContain("tok-");
            assertThat(changed.getJsonArray("addedLinks")).containsExactly(url("/two"));
            assertThat(changed.getJsonArray("removedLinks")).containsExactly(url("/one"));
          });
          return fb.get("/v1/watches/" + id[0] + "/changes?url=" + c);
        })
        .compose(onlyC -> {
          ctx.verify(() -> assertThat(onlyC.bodyAsJsonObject().getJsonArray("items").stream()
              .map(i -> ((JsonObject) i).getString("changeStatus"))).containsExactly("removed", "new"));
          return fb.get("/v1/watches/" + id[0]);
        })
        .compose(watch -> {
          ctx.verify(() -> {
            JsonObject w = watch.bodyAsJsonObject();
            assertThat(w.getInteger("runs")).isEqualTo(4);
            assertThat(w.getInteger("intervalSeconds")).isEqualTo(1125);
            assertThat(w.getJsonArray("urls").stream().map(u -> ((JsonObject) u).getString("changeStatus")))
                .containsExactly("changed", "same", "removed");
          });
          // 3 new + 1 changed + 1 removed
          return until(received -> received.size() >= 5);
        })
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          List<Receiver.Request> hooks = receiver.received();
          assertThat(hooks).hasSize(5).allMatch(r -> "page.changed".equals(r.header("X-Fetchbus-Event")));
          for (Receiver.Request r : hooks) {
            assertThat(r.header("X-Fetchbus-Signature")).isEqualTo(signature(r));
          }
          JsonObject event = hooks.stream().map(Receiver.Request::json)
              .filter(j -> j.getJsonObject("data").getString("changeStatus").equals("changed")).findFirst().orElseThrow();
          assertThat(event.getString("watchId")).isEqualTo(id[0]);
          assertThat(event.getJsonObject("data").getString("url")).isEqualTo(a);
          assertThat(event.getJsonObject("data").getString("diff")).contains("+A rewritten paragraph");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("each new version is stored as a page that its version, the run and the event name: GET /v1/pages "
      + "lists the URL's history, search finds it, a 304 stores nothing, and a deleted page leaves pageId null")
  void versionsAreStoredAsPages(VertxTestContext ctx) {
    String a = url("/a");
    pages.put("/a", new JsonObject().put("body", html("The original paragraph says hello.", "1", "t", "/one"))
        .put("etag", "\"a-v1\""));
    List<JsonObject> published = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer(Bus.WATCH_CHANGED, m -> published.add(m.body()));
    String[] id = new String[1];
    long[] pageIds = new long[3];
    deploy(new JsonObject())
        .compose(v -> create(new JsonObject().put("urls", new JsonArray().add(a))))
        .compose(created -> {
          id[0] = created.bodyAsJsonObject().getString("id");
          return run(id[0]);
        })
        .compose(first -> {
          JsonObject result = first.getJsonArray("results").getJsonObject(0);
          ctx.verify(() -> assertThat(result.getValue("pageId")).as(first.encode()).isInstanceOf(Number.class));
          pageIds[0] = result.getLong("pageId");
          return run(id[0]);
        })
        .compose(notModified -> {
          ctx.verify(() -> {
            assertThat(answered).endsWith(304);
            assertThat(notModified.getJsonArray("results").getJsonObject(0).getValue("pageId")).isNull();
          });
          pages.put("/a", new JsonObject().put("body", html("A rewritten paragraph about heliotropic tariffs, with a "
              + "new price of 42 euros for every plan and a discount for the first year.", "2", "t", "/two"))
              .put("etag", "\"a-v2\""));
          return run(id[0]);
        })
        .compose(changed -> {
          pageIds[1] = changed.getJsonArray("results").getJsonObject(0).getLong("pageId");
          pages.remove("/a");
          return run(id[0]);
        })
        .compose(removed -> {
          pageIds[2] = removed.getJsonArray("results").getJsonObject(0).getLong("pageId");
          return fb.get("/v1/pages?latest=false&url=" + a);
        })
        .compose(history -> {
          ctx.verify(() -> {
            assertThat(history.statusCode()).as(history.bodyAsString()).isEqualTo(200);
            JsonArray items = history.bodyAsJsonObject().getJsonArray("items");
            // newest first, and nothing for the run that got a 304
            assertThat(items.stream().map(i -> ((JsonObject) i).getLong("id")))
                .containsExactly(pageIds[2], pageIds[1], pageIds[0]);
            assertThat(items.stream().map(i -> ((JsonObject) i).getInteger("status"))).containsExactly(404, 200, 200);
          });
          return fb.get("/v1/pages/" + pageIds[1] + "?formats=text");
        })
        .compose(version -> {
          ctx.verify(() -> assertThat(version.bodyAsJsonObject().getString("text"))
              .contains("A rewritten paragraph about heliotropic tariffs"));
          return Poll.until(vertx, () -> fb.get("/v1/search?latest=false&q=heliotropic").map(r -> r.bodyAsJsonObject()
              .getJsonArray("items").stream().anyMatch(i -> ((JsonObject) i).getLong("id") == pageIds[1])));
        })
        .compose(v -> fb.get("/v1/watches/" + id[0] + "/changes"))
        .compose(changes -> {
          ctx.verify(() -> {
            assertThat(changes.bodyAsJsonObject().getJsonArray("items").stream()
                .map(i -> ((JsonObject) i).getLong("pageId"))).containsExactly(pageIds[2], pageIds[1], pageIds[0]);
            assertThat(published.stream().map(e -> e.getLong("pageId")))
                .containsExactly(pageIds[0], pageIds[1], pageIds[2]);
          });
          return fb.http.delete("/v1/pages/" + pageIds[0]).send();
        })
        .compose(deleted -> {
          ctx.verify(() -> assertThat(deleted.statusCode()).isEqualTo(204));
          return fb.get("/v1/watches/" + id[0] + "/changes?url=" + a);
        })
        .onComplete(ctx.succeeding(changes -> ctx.verify(() -> {
          JsonArray items = changes.bodyAsJsonObject().getJsonArray("items");
          assertThat(items.stream().map(i -> ((JsonObject) i).getString("changeStatus")))
              .containsExactly("removed", "changed", "new");
          assertThat(items.getJsonObject(2).getValue("pageId")).as("its page was deleted").isNull();
          assertThat(items.getJsonObject(1).getLong("pageId")).isEqualTo(pageIds[1]);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a watch's formats decide what its versions are stored with (markdown made at store time when asked), "
      + "default metadata as a fetch's; an unknown format is a 400 naming formats")
  void formatsDecideWhatVersionsKeep(VertxTestContext ctx) {
    pages.put("/a", new JsonObject().put("body", html("The original paragraph says hello.", "1", "t", "/one")));
    JsonObject urls = new JsonObject().put("urls", new JsonArray().add(url("/a")));
    long[] pageIds = new long[2];
    deploy(new JsonObject())
        .compose(v -> create(urls.copy().put("formats", new JsonArray().add("metadata").add("pdf"))))
        .compose(unknown -> {
          ctx.verify(() -> {
            assertThat(unknown.statusCode()).isEqualTo(400);
            assertThat(unknown.bodyAsJsonObject().getString("detail")).startsWith("formats");
          });
          return create(urls.copy().put("formats", new JsonArray().add("markdown").add("links")));
        })
        .compose(withMarkdown -> {
          ctx.verify(() -> {
            assertThat(withMarkdown.statusCode()).as(withMarkdown.bodyAsString()).isEqualTo(201);
            assertThat(withMarkdown.bodyAsJsonObject().getJsonArray("formats")).containsExactly("markdown", "links");
          });
          return run(withMarkdown.bodyAsJsonObject().getString("id"));
        })
        .compose(first -> {
          pageIds[0] = first.getJsonArray("results").getJsonObject(0).getLong("pageId");
          return create(urls);
        })
        .compose(byDefault -> {
          ctx.verify(() -> assertThat(byDefault.bodyAsJsonObject().getJsonArray("formats")).containsExactly("metadata"));
          return run(byDefault.bodyAsJsonObject().getString("id"));
        })
        .compose(first -> {
          pageIds[1] = first.getJsonArray("results").getJsonObject(0).getLong("pageId");
          // What the store holds, before any read could make markdown on demand.
          return TestDatabase.count(vertx, "SELECT count(*) FROM pages WHERE markdown LIKE '%original paragraph%' "
              + "AND id = " + pageIds[0]);
        })
        .compose(withMarkdown -> {
          ctx.verify(() -> assertThat(withMarkdown).as("markdown made as the version was stored").isEqualTo(1));
          return TestDatabase.count(vertx, "SELECT count(*) FROM pages WHERE markdown IS NULL AND text IS NOT NULL "
              + "AND links IS NOT NULL AND id = " + pageIds[1]);
        })
        .onComplete(ctx.succeeding(byDefault -> ctx.verify(() -> {
          assertThat(byDefault).as("metadata, text and links, no markdown").isEqualTo(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("with API keys, a key lists, reads, runs, reads the changes of, streams and deletes only its own "
      + "watches: another key's is a 404, and its listing does not show it")
  void keysSeeOnlyTheirOwnWatches(VertxTestContext ctx) {
    String keyA = "watch-key-a-5b1e0c";
    String keyB = "watch-key-b-9d27f4";
    pages.put("/a", new JsonObject().put("body", html("The original paragraph says hello.", "1", "t", "/one")));
    String[] id = new String[1];
    deploy(new JsonObject(), new JsonObject().put("auth", new JsonObject()
        .put("keys", new JsonArray().add("a:" + keyA).add("b:" + keyB))))
        .compose(v -> fb.http.post("/v1/watches").putHeader("Authorization", "Bearer " + keyA)
            .sendJsonObject(new JsonObject().put("urls", new JsonArray().add(url("/a")))))
        .compose(created -> {
          ctx.verify(() -> assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201));
          id[0] = created.bodyAsJsonObject().getString("id");
          String w = "/v1/watches/" + id[0];
          return Future.all(List.of(as(keyB, HttpMethod.GET, w), as(keyB, HttpMethod.POST, w + "/run"),
              as(keyB, HttpMethod.GET, w + "/changes"), as(keyB, HttpMethod.GET, w + "/events"),
              as(keyB, HttpMethod.DELETE, w), as(keyB, HttpMethod.GET, "/v1/watches")));
        })
        .compose(asB -> {
          ctx.verify(() -> {
            for (int i = 0; i < 5; i++) {
              HttpResponse<Buffer> resp = asB.resultAt(i);
              assertThat(resp.statusCode()).as("request %d of key b: %s", i, resp.bodyAsString()).isEqualTo(404);
              assertThat(resp.bodyAsJsonObject().getString("detail")).isEqualTo("there is no watch " + id[0]);
            }
            HttpResponse<Buffer> listing = asB.resultAt(5);
            assertThat(listing.bodyAsJsonObject().getJsonArray("items")).isEmpty();
            assertThat(requests).as("key b's run fetched nothing").isEmpty();
          });
          String w = "/v1/watches/" + id[0];
          return as(keyA, HttpMethod.POST, w + "/run")
              .compose(run -> {
                ctx.verify(() -> assertThat(run.statusCode()).as(run.bodyAsString()).isEqualTo(200));
                return Future.all(as(keyA, HttpMethod.GET, w), as(keyA, HttpMethod.GET, w + "/changes"),
                    as(keyA, HttpMethod.GET, "/v1/watches"));
              });
        })
        .compose(asA -> {
          ctx.verify(() -> {
            HttpResponse<Buffer> watch = asA.resultAt(0);
            HttpResponse<Buffer> changes = asA.resultAt(1);
            HttpResponse<Buffer> listing = asA.resultAt(2);
            assertThat(watch.bodyAsJsonObject().getInteger("runs")).as("still there, run once").isEqualTo(1);
            assertThat(changes.bodyAsJsonObject().getJsonArray("items")).hasSize(1);
            assertThat(listing.bodyAsJsonObject().getJsonArray("items").stream()
                .map(i -> ((JsonObject) i).getString("id"))).containsExactly(id[0]);
          });
          return as(keyA, HttpMethod.DELETE, "/v1/watches/" + id[0]);
        })
        .onComplete(ctx.succeeding(deleted -> ctx.verify(() -> {
          assertThat(deleted.statusCode()).isEqualTo(204);
          ctx.completeNow();
        })));
  }

  private Future<HttpResponse<Buffer>> as(String key, HttpMethod method, String path) {
    return fb.http.request(method, path).putHeader("Authorization", "Bearer " + key).send();
  }

  @Test
  @DisplayName("GET /v1/watches/{id}/events streams each version as it is recorded, with its diff, keeps an idle "
      + "stream open with comments, and is bounded in streams")
  void streamsChanges(VertxTestContext ctx) {
    String a = url("/a");
    pages.put("/a", new JsonObject().put("body", html("The original paragraph says hello.", "1", "t", "/one")));
    HttpClient client = held(vertx.createHttpClient());
    Buffer received = Buffer.buffer();
    String[] id = new String[1];
    HttpClientResponse[] stream = new HttpClientResponse[1];
    deploy(new JsonObject().put("maxEventStreams", 1).put("eventHeartbeatMs", 50))
        .compose(v -> create(new JsonObject().put("urls", new JsonArray().add(a))))
        .compose(created -> {
          id[0] = created.bodyAsJsonObject().getString("id");
          return client.request(HttpMethod.GET, fb.port, "127.0.0.1", "/v1/watches/" + id[0] + "/events")
              .compose(HttpClientRequest::send);
        })
        .compose(resp -> {
          stream[0] = resp;
          ctx.verify(() -> {
            assertThat(resp.statusCode()).isEqualTo(200);
            assertThat(resp.getHeader("Content-Type")).startsWith("text/event-stream");
          });
          resp.handler(received::appendBuffer);
          // The first comment says the stream is subscribed: a run from now on is not missed.
          return until(() -> received.toString().contains(": watching " + id[0]));
        })
        .compose(v -> fb.get("/v1/watches/" + id[0] + "/events"))
        .compose(second -> {
          ctx.verify(() -> {
            assertThat(second.statusCode()).as("watches.maxEventStreams is 1").isEqualTo(429);
            assertThat(second.bodyAsJsonObject().getString("detail")).contains("1 watch event streams are open");
          });
          return fb.get("/v1/watches/00000000-0000-0000-0000-000000000000/events");
        })
        .compose(unknown -> {
          ctx.verify(() -> assertThat(unknown.statusCode()).isEqualTo(404));
          return run(id[0]);
        })
        .compose(first -> until(() -> events(received).size() == 1))
        .compose(v -> run(id[0]))
        .compose(same -> {
          pages.put("/a", new JsonObject().put("body", html("A rewritten paragraph announces a new price of 42 euros "
              + "for every plan, with a discount for the first year and a new support line.", "2", "t", "/two")));
          return run(id[0]);
        })
        .compose(changed -> until(() -> events(received).size() == 2 && received.toString().contains(": keep-alive")))
        .compose(v -> {
          ctx.verify(() -> {
            List<JsonObject> events = events(received);
            assertThat(received.toString()).contains("event: page.changed\ndata: ");
            assertThat(events.stream().map(e -> e.getString("changeStatus"))).as("nothing for the run that found "
                + "the page the same").containsExactly("new", "changed");
            JsonObject changed = events.get(1);
            assertThat(changed.getString("watchId")).isEqualTo(id[0]);
            assertThat(changed.getString("url")).isEqualTo(a);
            assertThat(changed.getString("diff")).contains("-The original paragraph says hello.")
                .contains("+A rewritten paragraph announces a new price of 42 euros");
            assertThat(changed.getJsonArray("addedLinks")).containsExactly(url("/two"));
          });
          // The client leaves: its stream no longer counts, and a new one is served.
          return stream[0].request().connection().close();
        })
        .compose(v -> reopened(id[0]))
        .onComplete(ctx.succeeding(status -> ctx.verify(() -> {
          assertThat(status).isEqualTo(200);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a cron watch runs next at the cron's first time after the run ends, with no adaptive interval; a cron "
      + "given with intervalSeconds, invalid, never firing or firing closer than watches.minIntervalSeconds is a 400")
  void cronSchedule(VertxTestContext ctx) {
    pages.put("/a", new JsonObject().put("body", html("The original paragraph says hello.", "1", "t", "/one")));
    JsonObject ok = new JsonObject().put("urls", new JsonArray().add(url("/a")));
    String[] id = new String[1];
    deploy(new JsonObject().put("minIntervalSeconds", 7_200))
        .compose(v -> create(ok.copy().put("cron", "0 */6 * * *").put("intervalSeconds", 7_200)))
        .compose(both -> {
          ctx.verify(() -> assertThat(both.bodyAsJsonObject().getString("detail"))
              .startsWith("cron: give either cron or intervalSeconds, not both"));
          return create(ok.copy().put("cron", "0 0,23 * * *"));
        })
        .compose(tooClose -> {
          ctx.verify(() -> {
            assertThat(tooClose.statusCode()).isEqualTo(400);
            assertThat(tooClose.bodyAsJsonObject().getString("detail")).isEqualTo("cron: '0 0,23 * * *' runs as "
                + "little as 3600 s apart, closer than watches.minIntervalSeconds (7200 s) allows");
          });
          return create(ok.copy().put("cron", "0 0 30 2 *"));
        })
        .compose(never -> {
          ctx.verify(() -> assertThat(never.bodyAsJsonObject().getString("detail")).isEqualTo("cron: '0 0 30 2 *' "
              + "never fires"));
          return create(ok.copy().put("cron", "every six hours"));
        })
        .compose(invalid -> {
          ctx.verify(() -> assertThat(invalid.bodyAsJsonObject().getString("detail"))
              .startsWith("cron: is not a 5-field cron expression"));
          return create(ok.copy().put("cron", "0 */6 * * *"));
        })
        .compose(created -> {
          ctx.verify(() -> {
            assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
            assertThat(created.bodyAsJsonObject().getString("cron")).isEqualTo("0 */6 * * *");
            assertThat(created.bodyAsJsonObject().getValue("intervalSeconds")).isNull();
          });
          id[0] = created.bodyAsJsonObject().getString("id");
          return run(id[0]);
        })
        .compose(first -> run(id[0]))
        .compose(second -> fb.get("/v1/watches/" + id[0]).map(resp -> {
          ctx.verify(() -> {
            assertThat(second.getValue("intervalSeconds")).as("unchanged, yet no adaptive interval").isNull();
            JsonObject w = resp.bodyAsJsonObject();
            Instant lastRun = Instant.parse(w.getString("lastRunAt"));
            // The next 6-hour boundary after the run ended (the run's end is within a second of lastRunAt).
            Instant boundary = lastRun.truncatedTo(ChronoUnit.HOURS)
                .plus(6 - lastRun.atZone(ZoneOffset.UTC).getHour() % 6, ChronoUnit.HOURS);
            assertThat(Instant.parse(w.getString("nextAt"))).isEqualTo(Instant.parse(second.getString("nextAt")))
                .isEqualTo(boundary);
            assertThat(w.getInteger("runs")).isEqualTo(2);
          });
          return null;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  private Future<Void> until(java.util.function.BooleanSupplier done) {
    return done.getAsBoolean() ? Future.succeededFuture() : vertx.timer(20).compose(t -> until(done));
  }

  /** The status of a new stream of the watch, once the old one is gone (429 until then); the new one is closed. */
  private Future<Integer> reopened(String id) {
    HttpClient client = held(vertx.createHttpClient());
    return client.request(HttpMethod.GET, fb.port, "127.0.0.1", "/v1/watches/" + id + "/events")
        .compose(HttpClientRequest::send)
        .compose(resp -> {
          int status = resp.statusCode();
          return client.close().compose(v -> status == 429 ? vertx.timer(20).compose(t -> reopened(id))
              : Future.succeededFuture(status));
        });
  }

  private static List<JsonObject> events(Buffer received) {
    List<JsonObject> events = new java.util.ArrayList<>();
    for (String line : received.toString().split("\n")) {
      if (line.startsWith("data: ")) {
        events.add(new JsonObject(line.substring(6)));
      }
    }
    return events;
  }

  @Test
  @DisplayName("a due watch is run by the scheduler on its own, and its next run is due an interval later")
  void schedulerRunsDueWatches(VertxTestContext ctx) {
    pages.put("/a", new JsonObject().put("body", html("Scheduled.", "1", "t", "/x")));
    deploy(new JsonObject().put("pollMs", 50))
        .compose(v -> create(new JsonObject().put("urls", new JsonArray().add(url("/a"))).put("intervalSeconds", 600)))
        .compose(created -> polled(created.bodyAsJsonObject().getString("id")))
        .onComplete(ctx.succeeding(w -> ctx.verify(() -> {
          assertThat(w.getInteger("runs")).isEqualTo(1);
          assertThat(w.getJsonArray("urls").getJsonObject(0).getString("changeStatus")).isEqualTo("new");
          assertThat(java.time.Instant.parse(w.getString("nextAt")))
              .isAfter(java.time.Instant.parse(w.getString("lastRunAt")).plusSeconds(590));
          ctx.completeNow();
        })));
  }

  private Future<JsonObject> polled(String id) {
    return fb.get("/v1/watches/" + id).compose(resp -> resp.bodyAsJsonObject().getInteger("runs") > 0
        ? Future.succeededFuture(resp.bodyAsJsonObject()) : vertx.timer(20).compose(t -> polled(id)));
  }

  @Test
  @DisplayName("a run held by a node that died is taken over once its lease ends, and the dead node's late write is refused")
  void deadNodesRunIsTakenOver(VertxTestContext ctx) {
    pages.put("/a", new JsonObject().put("body", html("Taken over.", "1", "t", "/x")));
    String[] id = new String[1];
    String[] deadToken = new String[1];
    deploy(new JsonObject())
        .compose(v -> create(new JsonObject().put("urls", new JsonArray().add(url("/a")))))
        .compose(created -> {
          id[0] = created.bodyAsJsonObject().getString("id");
          // A node claims the watch, then dies: its lease (1 s) is all that is left of it.
          return vertx.eventBus().<JsonObject>request(Bus.WATCHES_CLAIM, new JsonObject().put("owner", "dead-node/1")
              .put("leaseMs", 1_000).put("id", id[0]));
        })
        .compose(claimed -> {
          deadToken[0] = claimed.body().getJsonArray("items").getJsonObject(0).getString("leaseToken");
          return fb.http.post("/v1/watches/" + id[0] + "/run").send();
        })
        .compose(held -> {
          ctx.verify(() -> assertThat(held.statusCode()).as("held by the dead node").isEqualTo(409));
          return runOnceLeaseEnds(id[0]);
        })
        .compose(run -> {
          ctx.verify(() -> assertThat(run.getJsonArray("results").getJsonObject(0).getString("changeStatus"))
              .isEqualTo("new"));
          return vertx.eventBus().<JsonObject>request(Bus.WATCHES_RECORD, new JsonObject().put("id", id[0])
              .put("leaseToken", deadToken[0]).put("intervalSeconds", 10).put("maxVersions", 5)
              .put("urls", new JsonArray()));
        })
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(Failure.LEASE_LOST.is(err)).as(err.toString()).isTrue();
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a run that outlasts its lease renews it: another node asking for the watch twice the lease after "
      + "the run began is refused, and the run is recorded")
  void aLongRunKeepsItsLease(VertxTestContext ctx) {
    long leaseMs = 2_000;
    // Without renewal the lease runs out 2 s into the run, and the claim made 4 s into it takes the watch.
    pages.put("/slow", new JsonObject().put("body", html("Slow.", "1", "t", "/x")).put("delayMs", 3 * leaseMs));
    String[] id = new String[1];
    deploy(new JsonObject().put("leaseMs", leaseMs))
        .compose(v -> create(new JsonObject().put("urls", new JsonArray().add(url("/slow")))))
        .compose(created -> {
          id[0] = created.bodyAsJsonObject().getString("id");
          Future<JsonObject> running = run(id[0]);
          Future<Throwable> otherNode = until(() -> requests.stream().anyMatch(r -> r.path().equals("/slow")))
              .compose(v -> vertx.timer(2 * leaseMs)) // the lease's time must pass: nothing to wait for but the clock
              .compose(t -> vertx.eventBus().<JsonObject>request(Bus.WATCHES_CLAIM, new JsonObject()
                  .put("owner", "other-node/1").put("leaseMs", leaseMs).put("id", id[0])))
              .map(claimed -> (Throwable) null)
              .recover(Future::succeededFuture);
          return Future.all(running, otherNode);
        })
        .onComplete(ctx.succeeding(both -> ctx.verify(() -> {
          Throwable refused = both.resultAt(1);
          assertThat(refused).as("the other node's claim, made while the run was under way").isNotNull();
          assertThat(FailureReplies.status(refused)).as(refused.toString()).isEqualTo(409);
          JsonObject run = both.resultAt(0);
          assertThat(run.getJsonArray("results").getJsonObject(0).getString("changeStatus")).isEqualTo("new");
          assertThat(requests.stream().filter(r -> r.path().equals("/slow")))
              .as("requests for the page: one run").hasSize(1);
          ctx.completeNow();
        })));
  }

  /** Asks to run the watch every 50 ms until its lease is free (409 until then). */
  private Future<JsonObject> runOnceLeaseEnds(String id) {
    return fb.http.post("/v1/watches/" + id + "/run").send().compose(resp -> resp.statusCode() == 409
        ? vertx.timer(50).compose(t -> runOnceLeaseEnds(id)) : Future.succeededFuture(resp.bodyAsJsonObject()));
  }

  @Test
  @DisplayName("invalid watches are refused with a 400 naming the field, the watches of a key are bounded, and "
      + "an unknown or deleted watch is a 404")
  void boundsAndValidation(VertxTestContext ctx) {
    JsonObject ok = new JsonObject().put("urls", new JsonArray().add(url("/a")));
    deploy(new JsonObject().put("maxPerKey", 1).put("maxUrls", 2))
        .compose(v -> create(ok.copy().put("include", "div[")))
        .compose(badSelector -> {
          ctx.verify(() -> {
            assertThat(badSelector.statusCode()).isEqualTo(400);
            assertThat(badSelector.bodyAsJsonObject().getString("detail")).startsWith("include:");
          });
          return create(new JsonObject().put("urls", new JsonArray().add(url("/a")).add(url("/b")).add(url("/c"))));
        })
        .compose(tooMany -> {
          ctx.verify(() -> assertThat(tooMany.bodyAsJsonObject().getString("detail")).startsWith("urls:"));
          return create(ok.copy().put("intervalSeconds", 5));
        })
        .compose(tooOften -> {
          ctx.verify(() -> assertThat(tooOften.bodyAsJsonObject().getString("detail")).startsWith("intervalSeconds:"));
          return create(ok);
        })
        .compose(first -> create(ok).map(second -> {
          ctx.verify(() -> {
            assertThat(first.statusCode()).isEqualTo(201);
            assertThat(second.statusCode()).isEqualTo(429);
          });
          return first.bodyAsJsonObject().getString("id");
        }))
        .compose(id -> fb.http.delete("/v1/watches/" + id).send()
            .compose(deleted -> {
              ctx.verify(() -> assertThat(deleted.statusCode()).isEqualTo(204));
              return fb.get("/v1/watches/" + id);
            }))
        .compose(gone -> {
          ctx.verify(() -> assertThat(gone.statusCode()).isEqualTo(404));
          return fb.get("/v1/watches/not-a-uuid/changes");
        })
        .compose(unknown -> {
          ctx.verify(() -> assertThat(unknown.statusCode()).isEqualTo(404));
          // a run without an id must not lease whichever watch is due
          return vertx.eventBus().<JsonObject>request(Bus.WATCHES_RUN, new JsonObject());
        })
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(((ReplyException) err).failureCode()).isEqualTo(Failure.INVALID.code);
          ctx.completeNow();
        })));
  }

  private static String signature(Receiver.Request r) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    byte[] signed = Buffer.buffer(r.header("X-Fetchbus-Timestamp") + ".").appendBuffer(r.body()).getBytes();
    return "sha256=" + HexFormat.of().formatHex(mac.doFinal(signed));
  }
}
