package io.fetchbus.bus;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.Upstream;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Another verticle using Fetchbus the way docs/event-bus.md shows: only through the event bus. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class BusContractTest extends TestBase {
  @BeforeEach
  void deploy(VertxTestContext ctx) {
    deployWithUpstream(new JsonObject()).onComplete(ctx.succeedingThenComplete());
  }

  /** Fetches a URL, saves it, reads it back, and hands the three answers to the test. */
  static final class ClientVerticle extends VerticleBase {
    private final String url;
    private final Promise<JsonObject> outcome = Promise.promise();

    ClientVerticle(String url) {
      this.url = url;
    }

    @Override
    public Future<?> start() {
      var bus = vertx.eventBus();
      bus.<JsonObject>request(Bus.FETCH, new JsonObject().put("url", url))
          .map(msg -> FetchResult.from(msg.body()))
          .compose(fetched -> bus.<JsonObject>request(Bus.PAGES_SAVE, SavePage.of(fetched, "saved by a client").toJson())
              .compose(saved -> bus.<JsonObject>request(Bus.PAGES_GET,
                  new JsonObject().put("id", saved.body().getJsonObject("page").getLong("id")))
                  .map(got -> new JsonObject().put("fetched", fetched.toJson()).put("saved", saved.body())
                      .put("got", got.body()))))
          .onComplete(outcome);
      return Future.succeededFuture();
    }
  }

  @Test
  @DisplayName("a verticle fetches over fetchbus.fetch, saves over fetchbus.pages.save and reads over fetchbus.pages.get")
  void verticleUsesBus(VertxTestContext ctx) {
    ClientVerticle client = new ClientVerticle(up.url("/page/bus"));
    vertx.deployVerticle(client)
        .compose(id -> client.outcome.future())
        .onComplete(ctx.succeeding(out -> ctx.verify(() -> {
          FetchResult fetched = FetchResult.from(out.getJsonObject("fetched"));
          assertThat(fetched.status()).isEqualTo(200);
          assertThat(fetched.body().toString()).isEqualTo(Upstream.html("Page bus"));
          assertThat(fetched.bytes()).isEqualTo(fetched.body().length());
          assertThat(fetched.fromCache()).isFalse();
          assertThat(out.getJsonObject("saved").getBoolean("created")).isTrue();
          Page got = Page.from(out.getJsonObject("got"));
          assertThat(got.title()).isEqualTo("saved by a client");
          assertThat(got.fetchId()).isEqualTo(fetched.fetchId());
          assertThat(got.sha256()).isEqualTo(fetched.sha256());
          assertThat(up.hits("/page/bus")).isEqualTo(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("saving the same fetch twice yields one page: the second save answers created=false")
  void saveIsIdempotentPerFetch(VertxTestContext ctx) {
    var bus = vertx.eventBus();
    bus.<JsonObject>request(Bus.FETCH, new JsonObject().put("url", up.url("/page/twice")))
        .map(msg -> SavePage.of(FetchResult.from(msg.body()), (String) null).toJson())
        .compose(save -> bus.<JsonObject>request(Bus.PAGES_SAVE, save)
            .compose(first -> bus.<JsonObject>request(Bus.PAGES_SAVE, save).map(second -> new JsonObject()
                .put("first", first.body()).put("second", second.body()))))
        .onComplete(ctx.succeeding(both -> ctx.verify(() -> {
          assertThat(both.getJsonObject("first").getBoolean("created")).isTrue();
          assertThat(both.getJsonObject("second").getBoolean("created")).isFalse();
          assertThat(both.getJsonObject("second").getJsonObject("page").getLong("id"))
              .isEqualTo(both.getJsonObject("first").getJsonObject("page").getLong("id"));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("bus failures are ReplyExceptions whose code is the HTTP status: 400 for a bad URL")
  void invalidUrlIs400(VertxTestContext ctx) {
    vertx.eventBus().request(Bus.FETCH, new JsonObject().put("url", "gopher://old.example/"))
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(err).isInstanceOf(ReplyException.class);
          assertThat(((ReplyException) err).failureCode()).isEqualTo(Failure.INVALID.code);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("bus failures are ReplyExceptions whose code is the HTTP status: 404 for a missing page")
  void missingPageIs404(VertxTestContext ctx) {
    vertx.eventBus().request(Bus.PAGES_GET, new JsonObject().put("id", 424242))
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(((ReplyException) err).failureCode()).isEqualTo(Failure.NOT_FOUND.code);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a validator with a control character is a 400, and no fetch slot is left taken")
  void badValidator(VertxTestContext ctx) {
    var bus = vertx.eventBus();
    bus.request(Bus.FETCH, new JsonObject().put("url", up.url("/page/v")).put("ifNoneMatch", "x\u0001y"))
        .onComplete(ctx.failing(err -> bus.<JsonObject>request(Bus.FETCH_CACHE_STATS, new JsonObject())
            .onComplete(ctx.succeeding(stats -> ctx.verify(() -> {
              assertThat(((ReplyException) err).failureCode()).isEqualTo(Failure.INVALID.code);
              assertThat(err.getMessage()).startsWith("ifNoneMatch: must not contain control characters");
              assertThat(stats.body().getInteger("upstreamInFlight")).isZero();
              assertThat(up.hits("/page/v")).isZero();
              ctx.completeNow();
            })))));
  }

  @Test
  @DisplayName("fetchbus.pages.find filters by URL, age and success")
  void findFilters(VertxTestContext ctx) {
    var bus = vertx.eventBus();
    String url = up.url("/page/findable");
    fb.postFetch(new JsonObject().put("url", url))
        .compose(created -> bus.<JsonObject>request(Bus.PAGES_FIND, new JsonObject().put("url", url).put("maxAgeSeconds", 3600))
            .compose(recent -> bus.<JsonObject>request(Bus.PAGES_FIND, new JsonObject().put("url", url).put("maxAgeSeconds", 0))
                .compose(none -> bus.<JsonObject>request(Bus.PAGES_FIND, new JsonObject().put("url", up.url("/page/other"))
                        .put("succeeded", true))
                    .map(other -> List.of(recent.body(), none.body(), other.body())))))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.get(0).getJsonArray("items")).hasSize(1);
          assertThat(r.get(1).getJsonArray("items")).isEmpty();
          assertThat(r.get(2).getJsonArray("items")).isEmpty();
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a wrongly typed field on the bus is a 400, not a store outage")
  void wrongTypeIs400(VertxTestContext ctx) {
    JsonObject save = new JsonObject().put("url", "http://example.com/").put("error", "x").put("status", "two hundred");
    vertx.eventBus().request(Bus.PAGES_SAVE, save)
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(((ReplyException) err).failureCode()).isEqualTo(Failure.INVALID.code);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("onlyIfCached without maxAgeSeconds answers with a cached copy of any age, without fetching")
  void onlyIfCachedHit(VertxTestContext ctx) {
    var bus = vertx.eventBus();
    JsonObject req = new JsonObject().put("url", up.url("/page/cached-once"));
    bus.<JsonObject>request(Bus.FETCH, req)
        .compose(first -> bus.<JsonObject>request(Bus.FETCH, req.copy().put("onlyIfCached", true)))
        .onComplete(ctx.succeeding(second -> ctx.verify(() -> {
          assertThat(second.body().getBoolean("fromCache")).isTrue();
          assertThat(up.hits("/page/cached-once")).isEqualTo(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("onlyIfCached answers 404 instead of fetching when there is no cached copy")
  void onlyIfCached(VertxTestContext ctx) {
    vertx.eventBus().request(Bus.FETCH, new JsonObject().put("url", up.url("/page/never")).put("onlyIfCached", true))
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(((ReplyException) err).failureCode()).isEqualTo(Failure.NOT_FOUND.code);
          assertThat(up.hits("/page/never")).isZero();
          ctx.completeNow();
        })));
  }
}
