package io.fetchbus.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.Upstream;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The per-host limit, fairness between hosts, retries, and the service staying responsive meanwhile. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class PolitenessAndRetryTest extends TestBase {
  private ServiceUnderTest fb;
  private Upstream up;
  private Upstream other;

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    Upstream.start(vertx)
        .compose(u -> {
          up = u;
          return Upstream.start(vertx);
        })
        .compose(o -> {
          other = o;
          return ServiceUnderTest.fresh(vertx, new JsonObject().put("fetch", new JsonObject().put("perHostConcurrency", 2)
              .put("retry", new JsonObject().put("baseDelayMs", 50))));
        })
        .onSuccess(f -> fb = f)
        .onComplete(ctx.succeedingThenComplete());
  }

  private Future<HttpResponse<Buffer>> fetch(String url) {
    return fb.postFetch(new JsonObject().put("url", url));
  }

  @Test
  @DisplayName("no more than fetch.perHostConcurrency requests are ever in flight to one host")
  void perHostLimit(VertxTestContext ctx) {
    List<Future<HttpResponse<Buffer>>> all = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      all.add(fetch(up.url("/slow/" + i)));
    }
    Future.all(all).onComplete(ctx.succeeding(done -> ctx.verify(() -> {
      assertThat(all).allSatisfy(f -> assertThat(f.result().statusCode()).isEqualTo(201));
      assertThat(up.maxConcurrent()).isEqualTo(2);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("respelling a URL (scheme case, explicit default port) does not make another origin for the limit")
  void originIsCanonical(VertxTestContext ctx) {
    List<Future<HttpResponse<Buffer>>> all = new ArrayList<>();
    String plain = up.url("/slow/");
    String shouting = plain.replace("http://", "HTTP://");
    String mixed = plain.replace("http://", "Http://");
    for (int i = 0; i < 3; i++) {
      all.add(fetch(plain + "p" + i));
      all.add(fetch(shouting + "s" + i));
      all.add(fetch(mixed + "m" + i));
    }
    Future.all(all).onComplete(ctx.succeeding(done -> ctx.verify(() -> {
      assertThat(up.maxConcurrent()).isEqualTo(2);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("a request's maxConcurrency lowers the per-host limit for it")
  void requestLowersLimit(VertxTestContext ctx) {
    List<Future<HttpResponse<Buffer>>> all = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      all.add(fb.postFetch(new JsonObject().put("url", up.url("/slow/" + i)).put("maxConcurrency", 1)));
    }
    Future.all(all).onComplete(ctx.succeeding(done -> ctx.verify(() -> {
      assertThat(up.maxConcurrent()).isEqualTo(1);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("a host whose requests all hang does not hold up another host, nor the API")
  void busyHostDoesNotBlockOthers(VertxTestContext ctx) {
    List<Future<HttpResponse<Buffer>>> stuck = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      stuck.add(fetch(up.url("/gate/stuck" + i)));
    }
    // Once the busy host has its two requests in flight and the rest queued, another host and the API answer.
    long poll = vertx.setPeriodic(20, id -> {
      int reached = 0;
      for (int i = 0; i < 6; i++) {
        reached += up.hits("/gate/stuck" + i);
      }
      if (reached >= 2) {
        vertx.cancelTimer(id);
        fetch(other.url("/page/free"))
            .compose(free -> fb.get("/v1/pages").map(listing -> List.of(free, listing)))
            .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
              assertThat(r.get(0).statusCode()).isEqualTo(201);
              assertThat(r.get(1).statusCode()).isEqualTo(200);
              assertThat(stuck).noneMatch(Future::isComplete);
              openGateUntilDone(stuck, ctx);
            })));
      }
    });
  }

  /** Opens the gate repeatedly until every held request has answered (queued ones reach it later). */
  private void openGateUntilDone(List<Future<HttpResponse<Buffer>>> held, VertxTestContext ctx) {
    long timer = vertx.setPeriodic(20, id -> up.openGate());
    Future.all(held).onComplete(ctx.succeeding(done -> {
      vertx.cancelTimer(timer);
      ctx.completeNow();
    }));
  }

  @Test
  @DisplayName("503 then 200 is retried with backoff: the page is stored with retries = 2")
  void retriesServerErrors(VertxTestContext ctx) {
    fetch(up.url("/flaky/a?fail=2")).onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
      assertThat(resp.statusCode()).isEqualTo(201);
      assertThat(resp.bodyAsJsonObject().getInteger("status")).isEqualTo(200);
      assertThat(resp.bodyAsJsonObject().getInteger("retries")).isEqualTo(2);
      assertThat(up.hits("/flaky/a")).isEqualTo(3);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("when retries run out the last answer is stored as it is, with its status")
  void retriesRunOut(VertxTestContext ctx) {
    fetch(up.url("/flaky/b?fail=5")).onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
      assertThat(resp.statusCode()).isEqualTo(201);
      assertThat(resp.bodyAsJsonObject().getInteger("status")).isEqualTo(503);
      assertThat(resp.bodyAsJsonObject().getInteger("retries")).isEqualTo(2);
      assertThat(up.hits("/flaky/b")).isEqualTo(3);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("429 with Retry-After: 1 is retried after at least a second")
  void honoursRetryAfter(VertxTestContext ctx) {
    long start = System.currentTimeMillis();
    fetch(up.url("/busy")).onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
      assertThat(resp.statusCode()).isEqualTo(201);
      assertThat(resp.bodyAsJsonObject().getInteger("status")).isEqualTo(200);
      assertThat(resp.bodyAsJsonObject().getInteger("retries")).isEqualTo(1);
      assertThat(System.currentTimeMillis() - start).isGreaterThanOrEqualTo(1000);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("other 4xx answers are never retried")
  void noRetryOn404(VertxTestContext ctx) {
    fetch(up.url("/missing")).onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
      assertThat(resp.bodyAsJsonObject().getInteger("status")).isEqualTo(404);
      assertThat(resp.bodyAsJsonObject().getInteger("retries")).isZero();
      assertThat(up.hits("/missing")).isEqualTo(1);
      ctx.completeNow();
    })));
  }
}
