package io.fetchbus.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** What the migrations leave in the database, beyond what the endpoint tests exercise. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class SchemaTest extends TestBase {

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    deployWithUpstream(new JsonObject()).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("bodies and texts are compressed with lz4 when the server has it (V7), and pages still read back whole")
  void lz4WhereAvailable(VertxTestContext ctx) {
    String serverHasLz4 = "SELECT count(*) FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)";
    String lz4Columns = "SELECT count(*) FROM pg_attribute WHERE attcompression = 'l' AND ((attrelid = 'contents'::regclass "
        + "AND attname = 'body') OR (attrelid = 'pages'::regclass AND attname IN ('text', 'markdown', 'links', 'metadata', 'headers', 'search')))";
    Future.all(TestDatabase.count(vertx, serverHasLz4), TestDatabase.count(vertx, lz4Columns))
        .compose(counts -> fb.postFetch(new JsonObject().put("url", up.url("/rich"))).compose(created ->
            fb.get("/v1/pages/" + created.bodyAsJsonObject().getLong("id") + "/content")).map(content -> {
              ctx.verify(() -> {
                long lz4 = counts.resultAt(0);
                long columns = counts.resultAt(1);
                assertThat(columns).as("lz4 columns, where the server has lz4").isEqualTo(lz4 == 1 ? 7 : 0);
                assertThat(content.bodyAsString()).isEqualTo(io.fetchbus.support.Upstream.RICH);
              });
              return content;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }
}
