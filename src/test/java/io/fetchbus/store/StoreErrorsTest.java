package io.fetchbus.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Failure;
import io.vertx.core.VertxException;
import io.vertx.core.impl.NoStackTraceTimeoutException;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;
import java.net.ConnectException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Which failures of the store are "unavailable, retry" (503) and which are a bug of ours (500). The real outages
 * (PostgreSQL stopped, the connection cut) are in StoreOutageTest; these are the failures a test cannot provoke
 * from outside, such as a query the client library refuses.
 */
class StoreErrorsTest {

  @Test
  @DisplayName("connection, pool and server-side transient failures are 503; the rest of PostgreSQL's errors are 500")
  void transientIsUnavailable() {
    assertThat(code(new PgException("terminating connection", "FATAL", "57P01", null))).isEqualTo(503);
    assertThat(code(new PgException("connection failure", "FATAL", "08006", null))).isEqualTo(503);
    assertThat(code(new PgException("too many connections", "FATAL", "53300", null))).isEqualTo(503);
    assertThat(code(new PgException("deadlock detected", "ERROR", "40P01", null))).isEqualTo(503);
    assertThat(code(new PgException("duplicate key", "ERROR", "23505", null))).isEqualTo(500);
    assertThat(code(ClosedConnectionException.INSTANCE)).isEqualTo(503);
    assertThat(code(new ConnectException("Connection refused"))).isEqualTo(503);
    assertThat(code(new NoStackTraceTimeoutException("timed out"))).isEqualTo(503);
    assertThat(code(new VertxException("Timeout waiting for connection", true))).isEqualTo(503);
    assertThat(code(new RuntimeException("wrapped", new ConnectException("Connection reset")))).isEqualTo(503);
  }

  @Test
  @DisplayName("a failure that is not the connection's is our bug: 500, with what it was in the message")
  void bugsAreInternal() {
    var refused = StoreErrors.classify(new IllegalArgumentException("Parameter at position[0] can not be coerced"));
    assertThat(refused.failureCode()).isEqualTo(Failure.INTERNAL.code);
    assertThat(refused.getMessage()).contains("can not be coerced");
    assertThat(code(new NullPointerException())).isEqualTo(500);
    assertThat(code(new ClassCastException("java.lang.String"))).isEqualTo(500);
  }

  @Test
  @DisplayName("a failure that is already a bus failure keeps its code")
  void replyExceptionsPassThrough() {
    assertThat(code(Failure.NOT_FOUND.exception("there is no page 7"))).isEqualTo(404);
  }

  private static int code(Throwable err) {
    return StoreErrors.classify(err).failureCode();
  }
}
