package io.fetchbus.bus;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

/** Failure codes on the bus; each equals the HTTP status the REST API answers with. */
public enum Failure {
  INVALID(400, "invalid-request", "Invalid request"),
  DESTINATION_NOT_ALLOWED(403, "destination-not-allowed", "Destination not allowed"),
  ROBOTS_DISALLOWED(403, "robots-disallowed", "Disallowed by robots.txt"),
  NOT_FOUND(404, "not-found", "Not found"),
  TOO_LARGE(413, "too-large", "Too large"),
  LIMITED(429, "limited", "Too many requests"),
  INTERNAL(500, "internal", "Internal error"),
  UPSTREAM(502, "upstream-error", "Upstream error"),
  UNAVAILABLE(503, "unavailable", "Service unavailable"),
  UPSTREAM_TIMEOUT(504, "upstream-timeout", "Upstream timeout");

  public final int code;
  /** The last segment of the problem {@code type} URI, e.g. {@code /problems/upstream-error}. */
  public final String slug;
  public final String title;

  Failure(int code, String slug, String title) {
    this.code = code;
    this.slug = slug;
    this.title = title;
  }

  /**
   * A failure to hand to {@code Message.fail} or to fail a future with; {@code detail} is shown to people. Where
   * several kinds share a status (403), the message starts with the kind's slug and a colon, so the kind
   * survives the bus, the cluster and the bridge, which carry only a code and a message.
   */
  public ReplyException exception(String detail) {
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, code, shared() ? slug + ": " + detail : detail, true);
  }

  /** The kind of failure a code and message stand for (see {@link #exception}). */
  public static Failure of(int code, String message) {
    for (Failure f : values()) {
      if (f.code == code && f.shared() && message != null && message.startsWith(f.slug + ": ")) {
        return f;
      }
    }
    return of(code);
  }

  /** The message without the slug prefix that {@link #exception} adds for shared codes. */
  public static String detail(int code, String message) {
    Failure f = of(code, message);
    return f.shared() && message != null && message.startsWith(f.slug + ": ") ? message.substring(f.slug.length() + 2) : message;
  }

  private boolean shared() {
    return code == 403;
  }

  public boolean is(Throwable t) {
    return t instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE && re.failureCode() == code;
  }

  public static Failure of(int code) {
    for (Failure f : values()) {
      if (f.shared()) {
        continue; // only reached through of(code, message)
      }
      if (f.code == code) {
        return f;
      }
    }
    return code >= 400 && code < 500 ? INVALID : INTERNAL;
  }
}
