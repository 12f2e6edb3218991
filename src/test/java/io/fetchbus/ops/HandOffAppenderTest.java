package io.fetchbus.ops;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.read.ListAppender;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.ThrowingConsumer;
import org.slf4j.LoggerFactory;

/** {@link HandOffAppender}: every event reaches its appenders, in order, and a full queue drops rather than waits. */
class HandOffAppenderTest {
  private final LoggerContext context = new LoggerContext();

  HandOffAppenderTest() {
    context.setMDCAdapter(new LogbackMDCAdapter()); // what SLF4J's binding does for the default context
  }

  private HandOffAppender handOff(AppenderBase<ILoggingEvent> downstream, int queueSize) {
    downstream.setContext(context);
    downstream.start();
    HandOffAppender appender = new HandOffAppender();
    appender.setContext(context);
    appender.setName("test");
    appender.setQueueSize(queueSize);
    appender.setMaxFlushMillis(60_000); // a loaded machine: stop() is the test's only wait for the writer
    appender.addAppender(downstream);
    appender.start();
    assertThat(appender.isStarted()).isTrue();
    Logger logger = context.getLogger("handoff");
    logger.setAdditive(false);
    logger.addAppender(appender);
    return appender;
  }

  @Test
  @DisplayName("every event of two threads reaches the appender, each thread's in its order, by the end of stop()")
  void everyEventInOrder() throws Exception {
    ListAppender<ILoggingEvent> list = new ListAppender<>();
    HandOffAppender appender = handOff(list, 100_000);
    Logger logger = context.getLogger("handoff");
    List<Thread> threads = new ArrayList<>();
    for (String name : List.of("a", "b")) {
      Thread t = new Thread(() -> {
        for (int i = 0; i < 20_000; i++) {
          logger.info("{} {}", name, i);
        }
      });
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join();
    }
    appender.stop();
    assertThat(list.list).hasSize(40_000);
    for (String name : List.of("a", "b")) {
      List<String> mine = list.list.stream().map(ILoggingEvent::getFormattedMessage)
          .filter(m -> m.startsWith(name + " ")).toList();
      assertThat(mine).hasSize(20_000);
      for (int i = 0; i < mine.size(); i++) {
        assertThat(mine.get(i)).isEqualTo(name + " " + i);
      }
    }
    assertThat(appender.dropped()).isZero();
  }

  /** An appender that holds the writer in each of the messages named, until that message's gate opens. */
  private static final class Gated extends AppenderBase<ILoggingEvent> {
    final Map<String, CountDownLatch> entered = new ConcurrentHashMap<>();
    final Map<String, CountDownLatch> gates = new ConcurrentHashMap<>();
    final List<String> written = new CopyOnWriteArrayList<>();

    Gated(String... messages) {
      for (String m : messages) {
        entered.put(m, new CountDownLatch(1));
        gates.put(m, new CountDownLatch(1));
      }
    }

    @Override
    protected void append(ILoggingEvent event) {
      String m = event.getFormattedMessage();
      if (gates.containsKey(m)) {
        entered.get(m).countDown();
        try {
          gates.get(m).await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      written.add(m);
    }

    void awaitEntered(String m) throws InterruptedException {
      assertThat(entered.get(m).await(30, TimeUnit.SECONDS)).as("the writer reached " + m).isTrue();
    }

    void open(String m) {
      gates.get(m).countDown();
    }
  }

  /** Runs {@code body} with this class's own logger's lines (its WARN reports) collected in a list. */
  private static void withReports(ThrowingConsumer<ListAppender<ILoggingEvent>> body) throws Throwable {
    ListAppender<ILoggingEvent> reports = new ListAppender<>();
    reports.start();
    Logger own = (Logger) LoggerFactory.getLogger(HandOffAppender.class);
    own.addAppender(reports);
    try {
      body.accept(reports);
    } finally {
      own.detachAppender(reports);
    }
  }

  private static List<String> messages(ListAppender<ILoggingEvent> reports) {
    return reports.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }

  @Test
  @DisplayName("with the writer stuck, the queue holds queueSize events, the rest are dropped and counted, no wait; "
      + "the drops are reported while the writer is still behind, before the queue has emptied")
  void fullQueueDrops() throws Throwable {
    withReports(reports -> {
      Gated stuck = new Gated("first", "line 0");
      HandOffAppender appender = handOff(stuck, 100);
      Logger logger = context.getLogger("handoff");
      logger.info("first");
      stuck.awaitEntered("first");
      Assertions.assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
        for (int i = 0; i < 500; i++) {
          logger.info("line {}", i);
        }
      });
      assertThat(appender.dropped()).isEqualTo(400);
      stuck.open("first");
      // The writer holds "line 0" with 99 lines still queued behind it: the report came before them.
      stuck.awaitEntered("line 0");
      assertThat(messages(reports)).containsExactly("test: 400 log lines dropped: the writer fell behind");
      stuck.open("line 0");
      appender.stop();
      assertThat(stuck.written).hasSize(101).startsWith("first", "line 0").endsWith("line 99");
      assertThat(messages(reports)).hasSize(1);
    });
  }

  @Test
  @DisplayName("a stop() whose writer cannot write out the queue in maxFlushMillis says how many lines may be lost")
  void stopThatTimesOutSaysSo() throws Throwable {
    withReports(reports -> {
      Gated stuck = new Gated("first");
      HandOffAppender appender = handOff(stuck, 100);
      appender.setMaxFlushMillis(1);
      Logger logger = context.getLogger("handoff");
      logger.info("first");
      stuck.awaitEntered("first");
      for (int i = 0; i < 10; i++) {
        logger.info("line {}", i);
      }
      appender.stop(); // the writer is held in "first" for as long as the test wants: stop() cannot flush
      assertThat(messages(reports)).containsExactly(
          "test: the writer did not write out the queue within 1 ms: about 10 log lines may be lost");
      stuck.open("first");
    });
  }
}
