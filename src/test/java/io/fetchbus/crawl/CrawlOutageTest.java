package io.fetchbus.crawl;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.CrawlSetup;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.JobClient;
import io.fetchbus.support.TcpProxy;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.fetchbus.support.TestSite;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgConnectOptions;
import java.net.URI;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Postgres lost in the middle of a crawl: the crawl pauses, then finishes by itself, no page lost or doubled. */
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class CrawlOutageTest extends TestBase {
  private TestSite site;
  private TcpProxy proxy;

  @BeforeEach
  void start(VertxTestContext ctx) {
    PgConnectOptions pg = TestDatabase.connectOptions();
    proxy = new TcpProxy(vertx, pg.getHost(), pg.getPort());
    TestSite.start(vertx, 60).onSuccess(s -> site = s)
        .compose(s -> proxy.start(false))
        .compose(p -> TestDatabase.truncate(vertx))
        .onComplete(ctx.succeedingThenComplete());
  }

  private JsonObject viaProxy() {
    PgConnectOptions pg = TestDatabase.connectOptions();
    String auth = pg.getUser() + (pg.getPassword() == null || pg.getPassword().isEmpty() ? "" : ":" + pg.getPassword());
    String url = "postgresql://" + auth + "@127.0.0.1:" + proxy.port() + "/" + pg.getDatabase();
    return CrawlSetup.config().mergeIn(new JsonObject()
        .put("pg", new JsonObject().put("url", url).put("connectTimeoutMs", 1000).put("acquireTimeoutMs", 1000)
            .put("requestTimeoutMs", 3000))
        .put("crawl", new JsonObject().put("leaseMs", 4000)), true);
  }

  /** Polls /ready until it answers {@code status}. */
  private Future<Void> readyIs(ServiceUnderTest fb, int status) {
    return fb.get("/ready").compose(r -> r.statusCode() == status ? Future.<Void>succeededFuture()
        : vertx.timer(50).compose(t -> readyIs(fb, status)));
  }

  @Test
  @DisplayName("Postgres cut while pages are in flight: the crawl pauses, resumes when it is back, and stores each page once")
  void postgresLostMidCrawl(VertxTestContext ctx) {
    Set<String> expected = TestSite.pages(site.reachable(3, link -> true));
    site.hold();
    ServiceUnderTest.deploy(vertx, viaProxy())
        .compose(fb -> {
          this.fb = fb;
          return JobClient.crawl(fb, CrawlSetup.linksOnly(site).put("maxDepth", 3));
        })
        .compose(id -> JobClient.await(fb, "/v1/crawls/" + id, job -> job.getInteger("completed") >= 1 || site.heldCount() >= 1)
            .compose(x -> {
              // Let a few pages through, then cut Postgres with pages held in flight.
              site.release();
              return JobClient.await(fb, "/v1/crawls/" + id, job -> job.getInteger("completed") >= 3);
            })
            .compose(x -> {
              site.hold();
              return JobClient.await(fb, "/v1/crawls/" + id, job -> site.heldCount() >= 1);
            })
            .compose(x -> {
              proxy.cut();
              site.release(); // these fetches finish while the store is gone
              return readyIs(fb, 503);
            })
            .compose(x -> {
              proxy.restore();
              return JobClient.finished(fb, "/v1/crawls/" + id);
            })
            .compose(job -> JobClient.all(fb, "/v1/crawls/" + id + "/pages")
                .compose(pages -> TestDatabase.count(vertx, "SELECT count(*) FROM (SELECT url_key FROM pages WHERE job_id = '"
                        + id + "' GROUP BY url_key HAVING count(*) > 1) d")
                    .map(doubled -> {
                      ctx.verify(() -> {
                        assertThat(job.getString("status")).isEqualTo("completed");
                        assertThat(pages.stream().map(p -> URI.create(p.getString("url")).getPath())
                            .collect(Collectors.toSet())).isEqualTo(expected);
                        assertThat(pages).hasSize(expected.size());
                        assertThat(doubled).isZero();
                      });
                      return null;
                    }))))
        .onComplete(ctx.succeedingThenComplete());
  }
}
