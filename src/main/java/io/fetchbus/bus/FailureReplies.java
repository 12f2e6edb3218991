package io.fetchbus.bus;

import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;

/** Turns any {@link Throwable} into the status code the contract promises. */
public final class FailureReplies {
  private FailureReplies() {}

  /** The HTTP status for a failure: our own codes pass through, bus timeouts are 504, no handler is 503. */
  public static int status(Throwable t) {
    if (t instanceof ReplyException re) {
      return switch (re.failureType()) {
        case RECIPIENT_FAILURE -> re.failureCode() >= 400 && re.failureCode() <= 599 ? re.failureCode() : 500;
        case TIMEOUT -> 504;
        case NO_HANDLERS -> 503;
        default -> 500;
      };
    }
    return 500;
  }

  /** Answers a request with the failure; unknown errors become 500 without leaking their text. */
  public static void reply(Message<?> msg, Throwable t) {
    if (t instanceof ReplyException re) {
      msg.fail(status(re), re.getMessage());
    } else {
      msg.fail(Failure.INTERNAL.code, "internal error: " + t.getClass().getSimpleName());
    }
  }
}
