package io.fetchbus.fetch;

import io.fetchbus.bus.Failure;
import io.fetchbus.bus.WebUrl;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.vertx.core.VertxException;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.StreamResetException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/** Maps what the network threw to a precise failure kind (502 or 504) with a detail a person can act on. */
final class UpstreamErrors {
  /** Worth another attempt: the next one may well succeed. Deadline, size, guard and robots failures are final. */
  static final Set<Failure> RETRYABLE = EnumSet.of(Failure.CONNECT_FAILED, Failure.CONNECT_TIMEOUT,
      Failure.IDLE_TIMEOUT, Failure.CONNECTION_CLOSED);

  private UpstreamErrors() {}

  static ReplyException classify(WebUrl url, Throwable err, FetchSettings s) {
    if (err instanceof ReplyException re) {
      return re;
    }
    String where = url.hostAndPort();
    for (Throwable t = err; t != null; t = t.getCause()) {
      if (t instanceof UnknownHostException) {
        return Failure.DNS_FAILURE.exception("could not resolve host " + url.uri().getHost());
      }
      if (t instanceof io.netty.channel.ConnectTimeoutException) {
        return Failure.CONNECT_TIMEOUT.exception("connecting to " + where + " timed out after "
            + s.connectTimeoutMs() + " ms (fetch.connectTimeoutMs)");
      }
      if (t instanceof ConnectException || t instanceof NoRouteToHostException) {
        return Failure.CONNECT_FAILED.exception("could not connect to " + where + ": " + brief(t));
      }
      if (t instanceof TimeoutException && String.valueOf(t.getMessage()).contains("getting a connection")) {
        // Our own connection pool was full for the whole connect timeout: our capacity, not the upstream's fault.
        return Failure.UNAVAILABLE.exception("every connection to " + where + " stayed busy for "
            + s.connectTimeoutMs() + " ms; retry later");
      }
      if (t instanceof TimeoutException) {
        return Failure.IDLE_TIMEOUT.exception(where + " sent nothing for " + s.idleTimeoutMs()
            + " ms (fetch.idleTimeoutMs)");
      }
      if (t instanceof SSLException) {
        return Failure.TLS_FAILURE.exception("TLS handshake with " + where + " failed: " + brief(t));
      }
      // Netty's HTTP decoder reports what it cannot parse (a status of "2xx", a chunk size of "ZZ") as the
      // IllegalArgumentException it caught; here it can only come from decoding the upstream's bytes.
      if (t instanceof TooLongFrameException || t instanceof DecoderException || t instanceof IllegalArgumentException) {
        return Failure.BAD_RESPONSE.exception(where + " sent a malformed HTTP response: " + brief(t));
      }
      if (t instanceof HttpClosedException || t instanceof StreamResetException) {
        return Failure.CONNECTION_CLOSED.exception(where + " closed the connection before the response was complete");
      }
      if (t instanceof VertxException && String.valueOf(t.getMessage()).toLowerCase().contains("connection was closed")) {
        return Failure.CONNECTION_CLOSED.exception(where + " closed the connection before the response was complete");
      }
    }
    return Failure.UPSTREAM.exception("fetching " + url + " failed: " + brief(err));
  }

  static boolean retryable(Throwable err) {
    return err instanceof ReplyException re && RETRYABLE.contains(Failure.of(re.failureCode(), re.getMessage()));
  }

  private static String brief(Throwable t) {
    String m = t.getMessage();
    return m == null ? t.getClass().getSimpleName() : m;
  }
}
