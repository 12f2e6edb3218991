package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The sharing of one scrape by the /metrics requests that arrive while it is written ({@link MetricsRoute#shared}). */
class SharedScrapeTest {

  /** A scrape that ends when the test completes or fails its promise, kept in {@code started}. */
  private static Future<String> scrapeUnderWay(List<Promise<String>> started) {
    Promise<String> scrape = Promise.promise();
    started.add(scrape);
    return scrape.future();
  }

  @Test
  @DisplayName("requests while a scrape is written share it; the first after its end starts a new one")
  void sharedWhileRunning() {
    List<Promise<String>> started = new ArrayList<>();
    Supplier<Future<String>> text = MetricsRoute.shared(() -> scrapeUnderWay(started));
    Future<String> first = text.get();
    Future<String> second = text.get();
    started.get(0).complete("scrape 1");
    Future<String> third = text.get();
    started.get(1).complete("scrape 2");

    assertThat(started).hasSize(2);
    assertThat(second).isSameAs(first);
    assertThat(first.result()).isEqualTo("scrape 1");
    assertThat(third.result()).isEqualTo("scrape 2");
  }

  @Test
  @DisplayName("a failed scrape fails every request that shared it, and the next request starts a new one")
  void failedScrapeIsNotKept() {
    List<Promise<String>> started = new ArrayList<>();
    Supplier<Future<String>> text = MetricsRoute.shared(() -> scrapeUnderWay(started));
    Future<String> first = text.get();
    Future<String> second = text.get();
    started.get(0).fail(new IllegalStateException("registry closed"));
    Future<String> third = text.get();
    started.get(1).complete("scrape 2");

    assertThat(first.cause()).hasMessage("registry closed");
    assertThat(second.cause()).hasMessage("registry closed");
    assertThat(started).hasSize(2);
    assertThat(third.result()).isEqualTo("scrape 2");
  }

  @Test
  @DisplayName("a scrape that ended before its end was listened for is not served again (it was, for ever)")
  void endedAtOnce() {
    // What a worker that finishes before the event loop adds its listener looks like: a future already complete.
    int[] scrapes = {0};
    Supplier<Future<String>> text = MetricsRoute.shared(() -> Future.succeededFuture("scrape " + ++scrapes[0]));
    List<String> served = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      served.add(text.get().result());
    }
    assertThat(served).containsExactly("scrape 1", "scrape 2", "scrape 3");
  }
}
