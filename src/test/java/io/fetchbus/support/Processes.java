package io.fetchbus.support;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * The service processes a test started ({@code @RegisterExtension}): after each test every one still running is
 * killed, and when a test fails, their output is printed.
 */
public final class Processes implements AfterEachCallback, TestWatcher {
  private final List<ServiceProcess> started = new CopyOnWriteArrayList<>();

  /** Launches the fat jar (see {@link ServiceProcess#launch}) and keeps it for clean-up. */
  public ServiceProcess launch(Vertx vertx, String name, Map<String, String> env) {
    return launch(vertx, name, env, List.of());
  }

  /** The same, with command-line arguments for the jar. */
  public ServiceProcess launch(Vertx vertx, String name, Map<String, String> env, List<String> args) {
    return keep(() -> ServiceProcess.launch(vertx, name, env, args));
  }

  /** Another JVM of the test ({@link ServiceProcess#java}), e.g. another application on the jar's classpath. */
  public ServiceProcess java(Vertx vertx, String name, Map<String, String> env, List<String> tail) {
    return keep(() -> ServiceProcess.java(vertx, name, env, tail));
  }

  private interface Start {
    ServiceProcess start() throws IOException;
  }

  private ServiceProcess keep(Start start) {
    try {
      ServiceProcess p = start.start();
      started.add(p);
      return p;
    } catch (IOException e) {
      throw new IllegalStateException("could not start a JVM with " + ServiceProcess.JAR, e);
    }
  }

  /** Runs on the JUnit thread, not an event loop: waiting for a killed process to go is fine here. */
  @Override
  public void afterEach(ExtensionContext context) throws InterruptedException {
    for (ServiceProcess p : started) {
      if (p.process.isAlive()) {
        p.process.destroyForcibly();
        p.process.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    for (ServiceProcess p : started) {
      System.out.println("===== output of " + p.log + " =====\n" + p.output() + "===== end of " + p.log + " =====");
    }
    started.clear();
  }

  @Override
  public void testSuccessful(ExtensionContext context) {
    started.clear();
  }

  @Override
  public void testAborted(ExtensionContext context, Throwable cause) {
    started.clear();
  }

  @Override
  public void testDisabled(ExtensionContext context, Optional<String> reason) {
    started.clear();
  }
}
