package io.fetchbus.fetch;

import io.fetchbus.bus.Failure;
import io.fetchbus.bus.WebUrl;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpClosedException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/** Maps what the network threw to a 502 or 504 with a detail a person can act on. */
final class UpstreamErrors {
  private UpstreamErrors() {}

  static ReplyException classify(WebUrl url, Throwable err, FetchSettings s) {
    if (err instanceof ReplyException re) {
      return re;
    }
    String where = url.uri().getHost() + (url.uri().getPort() > 0 ? ":" + url.uri().getPort() : "");
    for (Throwable t = err; t != null; t = t.getCause()) {
      if (t instanceof UnknownHostException) {
        return Failure.UPSTREAM.exception("could not resolve host " + url.uri().getHost() + " (DNS lookup failed)");
      }
      if (t instanceof io.netty.channel.ConnectTimeoutException) {
        return Failure.UPSTREAM_TIMEOUT.exception("connecting to " + where + " timed out after "
            + s.connectTimeoutMs() + " ms (fetch.connectTimeoutMs)");
      }
      if (t instanceof ConnectException || t instanceof NoRouteToHostException) {
        return Failure.UPSTREAM.exception("could not connect to " + where + ": " + brief(t));
      }
      if (t instanceof TimeoutException && String.valueOf(t.getMessage()).contains("getting a connection")) {
        // Our own connection pool was full for the whole connect timeout: our capacity, not the upstream's fault.
        return Failure.UNAVAILABLE.exception("every connection to " + where + " stayed busy for "
            + s.connectTimeoutMs() + " ms; retry later");
      }
      if (t instanceof TimeoutException) {
        return Failure.UPSTREAM_TIMEOUT.exception(where + " sent nothing for " + s.idleTimeoutMs()
            + " ms (fetch.idleTimeoutMs)");
      }
      if (t instanceof SSLException) {
        return Failure.UPSTREAM.exception("TLS handshake with " + where + " failed: " + brief(t));
      }
      if (t instanceof HttpClosedException) {
        return Failure.UPSTREAM.exception(where + " closed the connection before the response was complete");
      }
    }
    return Failure.UPSTREAM.exception("fetching " + url + " failed: " + brief(err));
  }

  private static String brief(Throwable t) {
    String m = t.getMessage();
    return m == null ? t.getClass().getSimpleName() : m;
  }
}
