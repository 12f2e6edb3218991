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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
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

  @Test
  @DisplayName("with the writer stuck, the queue holds queueSize events, the rest are dropped and counted, no wait")
  void fullQueueDrops() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch gate = new CountDownLatch(1);
    List<String> written = new ArrayList<>();
    AppenderBase<ILoggingEvent> stuck = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent event) {
        entered.countDown();
        try {
          gate.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        written.add(event.getFormattedMessage());
      }
    };
    ListAppender<ILoggingEvent> warnings = new ListAppender<>();
    warnings.start();
    Logger own = (Logger) LoggerFactory.getLogger(HandOffAppender.class);
    own.addAppender(warnings);
    try {
      HandOffAppender appender = handOff(stuck, 100);
      Logger logger = context.getLogger("handoff");
      logger.info("first");
      assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue(); // the writer holds "first" and is stuck
      Assertions.assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
        for (int i = 0; i < 500; i++) {
          logger.info("line {}", i);
        }
      });
      assertThat(appender.dropped()).isEqualTo(400);
      gate.countDown();
      appender.stop();
      assertThat(written).hasSize(101).startsWith("first", "line 0").endsWith("line 99");
      assertThat(warnings.list).extracting(ILoggingEvent::getFormattedMessage)
          .contains("test: 400 log lines dropped: the writer fell behind");
    } finally {
      own.detachAppender(warnings);
    }
  }
}
