package io.fetchbus.crawl;

import io.fetchbus.bus.Backoff;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FailureReplies;
import io.fetchbus.bus.FetchResult;
import io.fetchbus.bus.RetryAfter;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import java.util.EnumSet;
import java.util.Set;

/**
 * What becomes of a leased entry that gave no page ({@code fetchbus.frontier.retry}): back in the frontier after a
 * delay ({@code retry}, counted against {@code crawl.maxAttempts}; {@code requeue}, not counted), or ended
 * ({@code failed}, {@code robots}) with its error, which the job's errors list shows.
 */
record GiveBack(String outcome, long delayMs, String error, String errorClass) {
  /**
   * Upstream failures that another attempt would only repeat: a redirect loop or chain, and a response that is
   * not HTTP. The others of 502 and 504 (a refused or dropped connection, a timeout) may well pass next time.
   */
  static final Set<Failure> PERMANENT = EnumSet.of(Failure.REDIRECT_LOOP, Failure.TOO_MANY_REDIRECTS,
      Failure.BAD_RESPONSE);

  /** A fetch that failed: robots.txt said no, the destination is refused, the upstream failed, or we were busy. */
  static GiveBack afterFailure(Throwable err, int attempts, CrawlSettings settings) {
    int status = FailureReplies.status(err);
    Failure kind = err instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE
        ? Failure.of(re.failureCode(), re.getMessage()) : null;
    String errorClass = kind != null ? kind.slug
        : (status == 504 ? Failure.UPSTREAM_TIMEOUT.slug : Failure.of(status).slug);
    String error = Failure.detail(status, err.getMessage());
    if (kind == Failure.ROBOTS_DISALLOWED) {
      return new GiveBack("robots", 0, error, errorClass);
    }
    if (status == 429 || status == 503) {
      return new GiveBack("requeue", 1_000, error, errorClass); // this node was too busy: not the URL's fault
    }
    if ((status == 502 || status == 504) && !PERMANENT.contains(kind)) {
      return new GiveBack("retry", backoff(attempts, settings), error, errorClass);
    }
    // A refused destination, too large, a redirect loop, a broken response: trying again changes nothing.
    return new GiveBack("failed", 0, error, errorClass);
  }

  /** Whether the upstream answered "not now" (429, 503): its answer is no page, the URL is tried again later. */
  static boolean notNow(FetchResult result) {
    return result.status() == 429 || result.status() == 503;
  }

  /**
   * An upstream's "not now" that the fetcher stopped waiting for (its Retry-After longer than
   * {@code fetch.retry.maxDelayMs}, or still busy after its retries): the entry goes back to the frontier, not
   * before Retry-After has passed (or a backoff, without one), for at most {@code crawl.maxAttempts} attempts. A
   * Retry-After longer than {@code crawl.maxRetryAfterMs} ends the entry at once: the job would wait that long.
   */
  static GiveBack afterNotNow(FetchResult result, int attempts, CrawlSettings settings, long nowMs) {
    long asked = RetryAfter.millis(result.headers() == null ? null : result.headers().getString("retry-after"), nowMs);
    String answered = result.url() + " answered " + result.status();
    if (asked > settings.maxRetryAfterMs()) {
      return new GiveBack("failed", 0, answered + " with Retry-After of " + asked / 1000 + " s, longer than "
          + settings.maxRetryAfterMs() / 1000 + " s (crawl.maxRetryAfterMs)", Failure.UPSTREAM.slug);
    }
    long delayMs = Math.max(asked, backoff(attempts, settings));
    return new GiveBack("retry", delayMs, answered + " on attempt " + attempts + " of " + settings.maxAttempts()
        + (asked >= 0 ? " (Retry-After " + asked / 1000 + " s)" : ""), Failure.UPSTREAM.slug);
  }

  /** The wait after the {@code attempts}-th failed attempt ({@link Backoff}). */
  static long backoff(int attempts, CrawlSettings settings) {
    return Backoff.delayMs(attempts - 1, settings.retryBaseMs(), settings.retryMaxMs());
  }

  /** The {@code fetchbus.frontier.retry} request for the entry {@code ref} names. */
  JsonObject request(JsonObject ref, int maxAttempts) {
    return ref.put("outcome", outcome).put("delayMs", delayMs).put("error", error).put("errorClass", errorClass)
        .put("maxAttempts", maxAttempts);
  }
}
