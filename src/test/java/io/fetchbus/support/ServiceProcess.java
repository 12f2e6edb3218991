package io.fetchbus.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The built fat jar ({@code target/fetchbus.jar}) running as a child process, the way it is deployed: started
 * with {@code java -jar}, configured only through {@code FETCHBUS_*} variables, its output in a file under
 * {@code target/it/}. The port comes from the service's own log line, so any number can run at once.
 */
public final class ServiceProcess {
  public static final Path JAR = Path.of("target", "fetchbus.jar").toAbsolutePath();
  private static final Path LOGS = Path.of("target", "it").toAbsolutePath();
  private static final Pattern LISTENING = Pattern.compile("Fetchbus listening on http://127\\.0\\.0\\.1:(\\d+)");

  /**
   * A test JVM stopped early (Ctrl-C, a timeout) kills its service processes too: left running, they would go on
   * leasing crawl work and indexing pages in the database the next run uses, and fail its tests.
   */
  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly), "kill-services"));
  }

  public final Process process;
  public final Path log;
  private final Vertx vertx;

  private ServiceProcess(Vertx vertx, Process process, Path log) {
    this.vertx = vertx;
    this.process = process;
    this.log = log;
    LIVE.add(process);
    process.onExit().thenRun(() -> LIVE.remove(process));
  }

  /**
   * Settings every test process shares: the test database, a free port, one instance of each verticle (the
   * machine is small), the test site on 127.0.0.1 allowed, no fetch-level retries, quick crawl polls and retries.
   */
  public static Map<String, String> baseEnv() {
    Map<String, String> env = new HashMap<>();
    env.put("FETCHBUS_PG_URL", TestDatabase.url());
    env.put("FETCHBUS_HTTP_PORT", "0");
    env.put("FETCHBUS_HTTP_INSTANCES", "1");
    env.put("FETCHBUS_FETCH_INSTANCES", "1");
    env.put("FETCHBUS_EXTRACT_INSTANCES", "1");
    env.put("FETCHBUS_FETCH_GUARD_ALLOW_PRIVATE_NETWORKS", "true");
    env.put("FETCHBUS_FETCH_RETRY_MAX", "0");
    env.put("FETCHBUS_LIMITS_RATE_PER_SECOND", "10000");
    env.put("FETCHBUS_LIMITS_BURST", "10000");
    env.put("FETCHBUS_CRAWL_POLL_MS", "50");
    env.put("FETCHBUS_CRAWL_RETRY_BASE_MS", "20");
    env.put("FETCHBUS_CRAWL_RETRY_MAX_MS", "100");
    env.put("FETCHBUS_CRAWL_MAX_IN_FLIGHT", "16");
    env.put("FETCHBUS_CRAWL_PER_HOST_IN_FLIGHT", "8");
    env.put("FETCHBUS_LOG_LEVEL", "INFO");
    return env;
  }

  /**
   * Starts the jar with {@code env} (and none of this JVM's own {@code FETCHBUS_*} variables), its output going
   * to {@code target/it/<name>.log}. {@link #port} answers once it is listening.
   */
  public static ServiceProcess launch(Vertx vertx, String name, Map<String, String> env) throws IOException {
    return launch(vertx, name, env, List.of());
  }

  /** The same, with command-line arguments after the jar (the launcher's, e.g. {@code -cluster}, and Fetchbus's). */
  public static ServiceProcess launch(Vertx vertx, String name, Map<String, String> env, List<String> args)
      throws IOException {
    List<String> tail = new java.util.ArrayList<>(List.of("-jar", JAR.toString()));
    tail.addAll(args);
    return java(vertx, name, env, tail);
  }

  /**
   * A JVM started with {@code tail} after the JVM options the tests use ({@code -jar ...}, or {@code -cp ...} and a
   * main class), {@code env} as its only {@code FETCHBUS_*} variables, its output going to
   * {@code target/it/<name>.log}.
   */
  public static ServiceProcess java(Vertx vertx, String name, Map<String, String> env, List<String> tail)
      throws IOException {
    if (!Files.isRegularFile(JAR)) {
      throw new IllegalStateException(JAR + " is missing: the process tests run after 'package' (mvn verify)");
    }
    Files.createDirectories(LOGS);
    Path log = LOGS.resolve(name + ".log");
    List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:TieredStopAtLevel=1"));
    command.addAll(tail);
    ProcessBuilder pb = new ProcessBuilder(command)
        .directory(LOGS.toFile()) // no conf/config.json there: the jar's built-in defaults, then env
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("FETCHBUS_"));
    pb.environment().putAll(env);
    return new ServiceProcess(vertx, pb.start(), log);
  }

  /** The port from the log line {@code Fetchbus listening on ...}; fails if the process exits first. */
  public Future<Integer> port() {
    return awaitLog(LISTENING).map(m -> Integer.parseInt(m.group(1)));
  }

  /** The first match of {@code pattern} in the output, once it is there; fails if the process exits without it. */
  public Future<Matcher> awaitLog(Pattern pattern) {
    return vertx.fileSystem().readFile(log.toString()).compose(content -> {
      Matcher m = pattern.matcher(content.toString());
      if (m.find()) {
        return Future.succeededFuture(m);
      }
      if (!process.isAlive()) {
        return Future.failedFuture(new IllegalStateException("the process exited (" + process.exitValue()
            + ") before logging " + pattern.pattern()));
      }
      return vertx.timer(100).compose(t -> awaitLog(pattern));
    });
  }

  /** Sends SIGTERM: the JVM runs its shutdown hooks, so Vert.x closes and the service shuts down gracefully. */
  public void terminate() {
    process.destroy();
  }

  /** Sends SIGKILL: nothing of the service runs any more. */
  public void kill() {
    process.destroyForcibly();
  }

  /**
   * Sends SIGSTOP: the JVM freezes as in a long GC pause or a suspended VM, its sockets stay open and its cluster
   * registrations stay with the others until they time it out. {@link #thaw} resumes it.
   */
  public Future<Void> freeze() {
    return signal("STOP");
  }

  /** Sends SIGCONT to a process {@link #freeze} stopped. */
  public Future<Void> thaw() {
    return signal("CONT");
  }

  private Future<Void> signal(String name) {
    // Running kill(1) waits for a child process: a worker thread's job, not an event loop's.
    return vertx.executeBlocking(() -> {
      int code = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid())).inheritIO().start().waitFor();
      if (code != 0) {
        throw new IllegalStateException("kill -" + name + " " + process.pid() + " exited with " + code);
      }
      return null;
    });
  }

  /** The exit code, once the process has exited; fails after {@code timeoutMs}. */
  public Future<Integer> exited(long timeoutMs) {
    return Future.fromCompletionStage(process.onExit(), vertx.getOrCreateContext()).map(Process::exitValue)
        .timeout(timeoutMs, TimeUnit.MILLISECONDS);
  }

  /** Everything the process wrote so far. */
  public Future<String> readOutput() {
    return vertx.fileSystem().readFile(log.toString()).map(Object::toString);
  }

  /** The same, read on the caller's thread: for failure reports from the JUnit thread, never an event loop. */
  public String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no output: " + e.getMessage() + ")";
    }
  }
}
