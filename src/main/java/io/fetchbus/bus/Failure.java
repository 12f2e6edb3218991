package io.fetchbus.bus;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

/**
 * Failure kinds on the bus. The code of each equals the HTTP status the REST API answers, and its slug is the
 * last segment of the problem {@code type} ({@code /problems/<slug>}) and the {@code errorClass} of a failed
 * page. The first kind listed for a code is its general kind; the others refine it, and their messages start
 * with {@code "<slug>: "} so that the kind survives the bus, a cluster and the TCP bridge, which carry only a
 * code and a message.
 */
public enum Failure {
  INVALID(400, "invalid-request", "Invalid request"),
  UNAUTHORIZED(401, "unauthorized", "Unauthorized"),
  DESTINATION_NOT_ALLOWED(403, "destination-not-allowed", "Destination not allowed"),
  ROBOTS_DISALLOWED(403, "robots-disallowed", "Disallowed by robots.txt"),
  NOT_FOUND(404, "not-found", "Not found"),
  CONFLICT(409, "conflict", "Conflict"),
  LEASE_LOST(409, "lease-lost", "Lease lost"),
  TOO_LARGE(413, "too-large", "Too large"),
  UNSUPPORTED_MEDIA_TYPE(415, "unsupported-media-type", "Unsupported media type"),
  IDEMPOTENCY_KEY_REUSED(422, "idempotency-key-reused", "Idempotency-Key reused"),
  LIMITED(429, "limited", "Too many requests"),
  TOO_MANY_JOBS(429, "too-many-jobs", "Too many active jobs"),
  TOO_MANY_AUTH_FAILURES(429, "too-many-auth-failures", "Too many failed authentications"),
  INTERNAL(500, "internal", "Internal error"),
  UPSTREAM(502, "upstream-error", "Upstream error"),
  DNS_FAILURE(502, "dns-failure", "Host name not resolved"),
  CONNECT_FAILED(502, "connect-failed", "Connection failed"),
  TLS_FAILURE(502, "tls-failure", "TLS handshake failed"),
  CONNECTION_CLOSED(502, "connection-closed", "Connection closed early"),
  BAD_RESPONSE(502, "bad-response", "Malformed upstream response"),
  TOO_MANY_REDIRECTS(502, "too-many-redirects", "Too many redirects"),
  REDIRECT_LOOP(502, "redirect-loop", "Redirect loop"),
  UNAVAILABLE(503, "unavailable", "Service unavailable"),
  UPSTREAM_TIMEOUT(504, "upstream-timeout", "Upstream timeout"),
  CONNECT_TIMEOUT(504, "connect-timeout", "Connect timeout"),
  IDLE_TIMEOUT(504, "idle-timeout", "Upstream went silent");

  public final int code;
  public final String slug;
  public final String title;

  Failure(int code, String slug, String title) {
    this.code = code;
    this.slug = slug;
    this.title = title;
  }

  /** A failure to hand to {@code Message.fail} or to fail a future with; {@code detail} is shown to people. */
  public ReplyException exception(String detail) {
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, code, general() ? detail : slug + ": " + detail, true);
  }

  /** Whether {@code t} is a failure of exactly this kind. */
  public boolean is(Throwable t) {
    return t instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE
        && of(re.failureCode(), re.getMessage()) == this;
  }

  /** The kind a code and message stand for: a refinement named by the message's prefix, else the code's general kind. */
  public static Failure of(int code, String message) {
    Failure general = null;
    for (Failure f : values()) {
      if (f.code != code) {
        continue;
      }
      if (f.general()) {
        general = f;
      } else if (message != null && message.startsWith(f.slug + ": ")) {
        return f;
      }
    }
    if (general != null) {
      return general;
    }
    return code >= 400 && code < 500 ? INVALID : INTERNAL;
  }

  public static Failure of(int code) {
    return of(code, null);
  }

  /** The message without the kind prefix that {@link #exception} adds to refined kinds. */
  public static String detail(int code, String message) {
    Failure f = of(code, message);
    return !f.general() && message.startsWith(f.slug + ": ") ? message.substring(f.slug.length() + 2) : message;
  }

  /** The first kind declared for its code. */
  private boolean general() {
    for (Failure f : values()) {
      if (f.code == code) {
        return f == this;
      }
    }
    return true;
  }
}
