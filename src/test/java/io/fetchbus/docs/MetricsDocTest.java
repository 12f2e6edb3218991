package io.fetchbus.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.JobClient;
import io.fetchbus.support.Scrape;
import io.fetchbus.support.TestBase;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * docs/operations.md names every metric the service registers: the meters the code builds (read from the sources,
 * so a meter registered only on a rare path counts too) and every series a real service shows on {@code /metrics}
 * after some traffic (a fetch, a cache hit, a robots.txt block, a guard refusal and a crawl).
 */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class MetricsDocTest extends TestBase {
  private static final String DOC = "docs/operations.md";
  /** A meter name given as a literal to a Micrometer builder or to one of Meters' helpers. */
  private static final Pattern REGISTERED = Pattern.compile(
      "(?:\\.builder|\\bcounter|\\bcrawlGauge)\\(\\s*\"(fetchbus\\.[a-z0-9_.]+)\"");
  /** What Prometheus adds to a timer's or a summary's name for its series. */
  private static final Pattern SERIES_SUFFIX = Pattern.compile("_(bucket|count|sum|max)$");
  private static final Pattern DOCUMENTED_FETCHBUS = Pattern.compile("`(fetchbus_[a-z0-9_]+)`");

  @Test
  @DisplayName("every meter name the code registers is in docs/operations.md")
  void everyMeterOfTheCodeIsDocumented(VertxTestContext ctx) throws IOException {
    Set<String> registered = registeredInCode();
    String doc = Docs.read(DOC);
    assertThat(registered).as("meters found in src/main/java").contains("fetchbus_fetches", "fetchbus_crawl_jobs");
    assertThat(registered.stream().filter(name -> !doc.contains("`" + name)).toList())
        .as("meters registered in the code and not named in %s", DOC).isEmpty();
    ctx.completeNow();
  }

  @Test
  @DisplayName("every series a real service shows on /metrics after some traffic is in docs/operations.md, and no other")
  void everySeriesOfARealServiceIsDocumented(VertxTestContext ctx) {
    JsonObject quickGauges = new JsonObject().put("crawl", new JsonObject().put("gaugesEveryMs", 100).put("pollMs", 50));
    deployWithUpstream(quickGauges)
        .compose(v -> {
          up.robots(200, "User-agent: *\nDisallow: /page/private\n");
          return fb.postFetch(new JsonObject().put("url", up.url("/page/one")));
        })
        .compose(v -> fb.postFetch(new JsonObject().put("url", up.url("/page/one")).put("maxAgeSeconds", 60)))
        .compose(v -> fb.postFetch(new JsonObject().put("url", up.url("/page/private"))))
        .compose(v -> fb.postFetch(new JsonObject().put("url", "http://2130706433/")))
        .compose(v -> JobClient.crawl(fb, new JsonObject()
            .put("url", up.url("/page/crawled")).put("maxDepth", 0).put("sitemap", "skip")))
        .compose(id -> JobClient.finished(fb, "/v1/crawls/" + id))
        .compose(job -> scrapeUntil(s -> s.value("fetchbus_crawl_jobs", "state", "completed") >= 1
            && s.has("fetchbus_guard_denials_total") && s.has("fetchbus_robots_blocks_total")))
        .onComplete(ctx.succeeding(scrape -> ctx.verify(() -> {
          String doc = Docs.read(DOC);
          Set<String> names = new TreeSet<>();
          scrape.series().forEach(s -> names.add(s.name()));
          List<String> undocumented = names.stream().filter(name -> !documented(doc, name)).toList();
          assertThat(undocumented).as("series on /metrics not named in %s", DOC).isEmpty();

          Set<String> known = new TreeSet<>(registeredInCode());
          names.forEach(name -> known.add(SERIES_SUFFIX.matcher(name).replaceAll("")));
          Matcher m = DOCUMENTED_FETCHBUS.matcher(doc);
          Set<String> stale = new TreeSet<>();
          while (m.find()) {
            String name = SERIES_SUFFIX.matcher(m.group(1)).replaceAll("");
            if (known.stream().noneMatch(k -> k.equals(name) || name.startsWith(k + "_"))) {
              stale.add(m.group(1));
            }
          }
          assertThat(stale).as("fetchbus_* meters %s names that neither the code nor /metrics has", DOC).isEmpty();
          ctx.completeNow();
        })));
  }

  /**
   * A series is documented when its name is, or its timer's name ({@code _bucket}, {@code _count}, ... left out);
   * for the JVM's, the process's and the system's meters from Micrometer's binders, when its family ({@code jvm_*}) is.
   */
  private static boolean documented(String doc, String name) {
    if (name.startsWith("fetchbus_") || name.startsWith("vertx_")) {
      return doc.contains("`" + name + "`") || doc.contains("`" + SERIES_SUFFIX.matcher(name).replaceAll("") + "`");
    }
    return doc.contains("`" + name.substring(0, name.indexOf('_') + 1) + "*`");
  }

  /** {@code fetchbus_cache_gets} for {@code Counter.builder("fetchbus.cache.gets")}, from every main source file. */
  static Set<String> registeredInCode() throws IOException {
    Set<String> out = new TreeSet<>();
    try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
      for (Path file : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        Matcher m = REGISTERED.matcher(Docs.read(file));
        while (m.find()) {
          out.add(m.group(1).replace('.', '_'));
        }
      }
    }
    return out;
  }

  private Future<Scrape> scrapeUntil(java.util.function.Predicate<Scrape> ready) {
    return fb.get("/metrics").compose(resp -> {
      Scrape scrape = Scrape.parse(resp.bodyAsString());
      return ready.test(scrape) ? Future.succeededFuture(scrape) : vertx.timer(50).compose(t -> scrapeUntil(ready));
    });
  }
}
