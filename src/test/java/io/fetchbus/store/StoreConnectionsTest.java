package io.fetchbus.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.config.ConfigLoader;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The store's connections keep its per-page statements prepared ({@code pg.preparedStatements}), so such a query is
 * one round trip that PostgreSQL does not parse and plan again; {@code false} keeps none. Checked in the connection's own
 * {@code pg_prepared_statements} on the test's real PostgreSQL.
 */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class StoreConnectionsTest extends TestBase {

  private static JsonObject config(Boolean preparedStatements) {
    JsonObject pg = new JsonObject().put("url", TestDatabase.url());
    if (preparedStatements != null) {
      pg.put("preparedStatements", preparedStatements);
    }
    return ConfigLoader.loadNow(new JsonObject().put("pg", pg), Map.of("FETCHBUS_CONFIG", "does/not/exist.json"));
  }

  /**
   * Runs a page read, a listing of a job's pages and a crawl completion (refused: no URL) twice each, then lists what
   * the session keeps.
   */
  private Future<List<String>> keptAfterQueries(JsonObject config) {
    return PgConnection.connect(vertx, StoreConnections.options(vertx, config)).compose(conn -> {
      Tuple read = Tuple.of(-1L);
      Future<?> queries = conn.preparedQuery(Sql.PAGE_BY_ID).execute(read)
          .compose(v -> conn.preparedQuery(Sql.PAGE_BY_ID).execute(read))
          .compose(v -> conn.preparedQuery(Sql.JOB_PAGE_IDS).execute(Tuple.of(null, 1)))
          .compose(v -> conn.preparedQuery(Sql.JOB_PAGE_IDS).execute(Tuple.of(null, 1)))
          .compose(v -> refusedForNoUrl(conn.preparedQuery(CrawlSql.COMPLETE_WITH_PAGE).execute(noUrl())))
          .compose(v -> refusedForNoUrl(conn.preparedQuery(CrawlSql.COMPLETE_WITH_PAGE).execute(noUrl())));
      return queries.compose(v -> conn.query("SELECT statement FROM pg_prepared_statements").execute())
          .map(rows -> {
            List<String> kept = new ArrayList<>();
            for (Row r : rows) {
              kept.add(r.getString("statement"));
            }
            return kept;
          })
          .eventually(conn::close);
    });
  }

  /** A completion refused as it should be: the page has no URL (23502), after the statement was prepared. */
  private static Future<Void> refusedForNoUrl(Future<?> completion) {
    return completion.transform(ar -> ar.failed() && ar.cause() instanceof PgException e
        && "23502".equals(e.getSqlState()) ? Future.<Void>succeededFuture()
        : Future.<Void>failedFuture(new AssertionError("expected a not-null violation, got " + ar)));
  }

  /** Parameters of {@link CrawlSql#COMPLETE_WITH_PAGE}, all null: a page without a URL, which PostgreSQL refuses. */
  private static Tuple noUrl() {
    Tuple t = Tuple.tuple();
    for (int i = 0; i < 33; i++) {
      t.addValue(null);
    }
    return t;
  }

  @Test
  @DisplayName("by default a connection keeps the statements run for every page prepared, one each however often "
      + "it runs them, and no other")
  void keepsStatementsPrepared(VertxTestContext ctx) {
    keptAfterQueries(config(null)).onComplete(ctx.succeeding(kept -> ctx.verify(() -> {
      // Each once, and not the listing of a job's pages, whose plan depends on its values.
      assertThat(kept).containsExactlyInAnyOrder(Sql.PAGE_BY_ID, CrawlSql.COMPLETE_WITH_PAGE);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("the crawl's claim is not kept: PostgreSQL's plan for all its values made it many times as slow")
  void claimIsNotKept() {
    assertThat(StoreConnections.KEPT_PREPARED).doesNotContain(CrawlSql.CLAIM);
  }

  @Test
  @DisplayName("with pg.preparedStatements false a connection keeps none")
  void keepsNoneWhenTurnedOff(VertxTestContext ctx) {
    keptAfterQueries(config(false)).onComplete(ctx.succeeding(kept -> ctx.verify(() -> {
      assertThat(kept).isEmpty();
      ctx.completeNow();
    })));
  }
}
