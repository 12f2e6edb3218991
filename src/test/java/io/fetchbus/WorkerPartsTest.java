package io.fetchbus;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.TestBase;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A worker part (the extraction) runs on a pool of its own, as many threads as instances, not the shared workers. */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class WorkerPartsTest extends TestBase {
  private static final String ADDRESS = "test.worker-parts.thread";

  /** Answers with the name of the thread it runs on. */
  public static final class ThreadName extends VerticleBase {
    @Override
    public Future<?> start() {
      return vertx.eventBus().<String>consumer(ADDRESS, m -> m.reply(Thread.currentThread().getName())).completion();
    }
  }

  @Test
  @DisplayName("two worker instances answer from their own pool of two threads, not the shared one")
  void ownPoolOneThreadPerInstance(VertxTestContext ctx) {
    NodeParts parts = new NodeParts(vertx);
    parts.deploy(ThreadName.class.getName(), new JsonObject(), 2, true, "extraction", "")
        .compose(id -> {
          List<Future<String>> answers = new ArrayList<>();
          for (int i = 0; i < 400; i++) {
            answers.add(vertx.eventBus().<String>request(ADDRESS, i).map(m -> m.body()));
          }
          return Future.all(answers).map(all -> all.<String>list());
        })
        .onComplete(ctx.succeeding(names -> ctx.verify(() -> {
          Set<String> threads = new HashSet<>(names);
          // On Vert.x's shared pool of 20, the instances' messages ran on whichever of its threads was free.
          assertThat(threads).allSatisfy(t -> assertThat(t).startsWith("fetchbus-extraction-"));
          assertThat(threads).hasSizeBetween(1, 2);
          ctx.completeNow();
        })));
  }
}
