package io.fetchbus.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** What the process tests check of a crawl in the database and through the API. */
public final class CrawlChecks {
  private CrawlChecks() {}

  /** Frontier entries leased right now, by any node. */
  public static Future<Long> leased(Vertx vertx) {
    return leased(vertx, TestDatabase.connectOptions());
  }

  /** The same on the server {@code db} (a test's {@link PrivatePostgres}). */
  public static Future<Long> leased(Vertx vertx, PgConnectOptions db) {
    return TestDatabase.count(vertx, db, "SELECT count(*) FROM frontier WHERE state = 'leased'");
  }

  /**
   * Brings the crawl to the middle of its run: waits for the seed to reach the (holding) site, lets it through,
   * then waits until pages are done, at least {@code minLeased} entries are leased and every leased entry's
   * request is held at the site, so the node has fetches truly in flight.
   */
  public static Future<Void> midCrawl(Vertx vertx, TestSite site, int minLeased) {
    return midCrawl(vertx, site, minLeased, TestDatabase.connectOptions());
  }

  /** The same, with the crawl's database on the server {@code db}. */
  public static Future<Void> midCrawl(Vertx vertx, TestSite site, int minLeased, PgConnectOptions db) {
    return Poll.until(vertx, () -> Future.succeededFuture(site.heldCount() >= 1))
        .compose(v -> {
          site.release();
          site.hold();
          return Poll.until(vertx, () -> TestDatabase.count(vertx, db, "SELECT count(*) FROM frontier WHERE state = 'done'")
              .compose(done -> leased(vertx, db).map(leased -> done >= 1 && leased >= minLeased && leased == site.heldCount())));
        });
  }

  /**
   * The job stored exactly {@code expected} (paths on the test site): the same set through the API, and in the
   * database one page row per URL, no more.
   */
  public static Future<Void> exactPages(ServiceUnderTest fb, String jobId, Set<String> expected) {
    return exactPages(fb, jobId, expected, TestDatabase.connectOptions());
  }

  /** The same, with the crawl's database on the server {@code db}. */
  public static Future<Void> exactPages(ServiceUnderTest fb, String jobId, Set<String> expected, PgConnectOptions db) {
    Vertx vertx = fb.vertx;
    return JobClient.all(fb, "/v1/crawls/" + jobId + "/pages").compose(pages -> Future.all(
            TestDatabase.count(vertx, db, "SELECT count(*) FROM pages WHERE job_id = '" + jobId + "'"),
            TestDatabase.count(vertx, db, "SELECT count(*) FROM (SELECT url_key FROM pages WHERE job_id = '" + jobId
                + "' GROUP BY url_key HAVING count(*) > 1) d"))
        .map(counts -> {
          assertThat(paths(pages)).isEqualTo(expected);
          assertThat(pages).hasSize(expected.size());
          assertThat(counts.<Long>resultAt(0)).as("page rows of the job").isEqualTo(expected.size());
          assertThat(counts.<Long>resultAt(1)).as("URLs stored more than once").isZero();
          return null;
        }));
  }

  public static Set<String> paths(List<io.vertx.core.json.JsonObject> pages) {
    return pages.stream().map(p -> URI.create(p.getString("url")).getPath()).collect(Collectors.toSet());
  }

  /** The depth of {@code url}'s frontier entry once the entry is done (its page stored), else null. */
  public static Future<Integer> doneAt(Vertx vertx, String url) {
    return TestDatabase.rows(vertx, "SELECT depth FROM frontier WHERE state = 'done' AND url = '" + url + "'")
        .map(rows -> rows.isEmpty() ? null : rows.get(0).getInteger("depth"));
  }

  /** The depth of each page the job stored, by path, as its frontier holds it. */
  public static Future<Map<String, Integer>> storedDepths(Vertx vertx, String jobId) {
    return TestDatabase.rows(vertx, "SELECT url, depth FROM frontier WHERE state = 'done' AND job_id = '" + jobId + "'")
        .map(rows -> {
          Map<String, Integer> depths = new HashMap<>();
          rows.forEach(r -> depths.put(URI.create(r.getString("url")).getPath(), r.getInteger("depth")));
          return depths;
        });
  }
}
