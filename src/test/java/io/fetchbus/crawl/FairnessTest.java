package io.fetchbus.crawl;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.CrawlSetup;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.JobClient;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestSite;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.dns.AddressResolverOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A job over many hosts is worked on all of them at once: claims rotate over the job's hosts and take a few
 * entries of each, instead of draining one host before the next. Ten host names point at the test site.
 */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class FairnessTest extends TestBase {
  private static final int HOSTS = 10;
  private TestSite site;

  FairnessTest() {
    super(new VertxOptions().setAddressResolverOptions(new AddressResolverOptions().setHostsValue(hostsFile())));
  }

  private static Buffer hostsFile() {
    StringBuilder hosts = new StringBuilder();
    for (int h = 0; h < HOSTS; h++) {
      hosts.append("127.0.0.1 h").append(h).append(".test\n");
    }
    return Buffer.buffer(hosts.toString());
  }

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    TestSite.start(vertx, 60)
        .compose(s -> {
          site = s;
          // Room for 10 entries in flight on this node, at most 1 per host.
          return ServiceUnderTest.fresh(vertx, CrawlSetup.config().mergeIn(new JsonObject()
              .put("crawl", new JsonObject().put("maxInFlight", 10).put("perHostInFlight", 1)), true));
        })
        .onSuccess(f -> fb = f)
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a batch of 5 URLs on each of 10 hosts: the first 10 fetches go to 10 different hosts")
  void claimsRotateOverHosts(VertxTestContext ctx) {
    JsonArray urls = new JsonArray();
    // Listed host by host, so that a claim in insertion order would take one host's URLs first.
    for (int h = 0; h < HOSTS; h++) {
      for (int i = 0; i < 5; i++) {
        urls.add("http://h" + h + ".test:" + site.port() + "/p/" + i);
      }
    }
    site.hold();
    fb.http.post("/v1/batches").sendJsonObject(new JsonObject().put("urls", urls).put("obeyRobots", false))
        .compose(resp -> JobClient.await(fb, resp.getHeader("Location"), job -> site.heldCount() >= HOSTS)
            .compose(x -> {
              List<String> first = site.requestedHosts().subList(0, HOSTS);
              site.release();
              return JobClient.finished(fb, resp.getHeader("Location")).map(job -> {
                ctx.verify(() -> {
                  assertThat(new HashSet<>(first)).hasSize(HOSTS);
                  assertThat(job.getInteger("completed")).isEqualTo(5 * HOSTS);
                });
                return null;
              });
            }))
        .onComplete(ctx.succeedingThenComplete());
  }
}
