package io.fetchbus.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A PostgreSQL server of one test's own ({@code @RegisterExtension}), which the test can freeze (SIGSTOP of the
 * postmaster and every backend), thaw, kill ({@code kill -9} of them all, as a crash or the OOM killer would) and
 * start again on the same data and port: the faults the shared server of the other tests must never see.
 * <p>
 * It is the embedded server the service itself ships (zonky, the binaries in the jar), so it runs as the current
 * user, root in CI included, with nothing installed. The data directory is initialised once per JVM and copied for
 * each server, which saves an initdb per test. Each server is stopped and its data deleted after the test.
 * <p>
 * Starting, stopping and signalling block: the {@code Future} methods run them on a worker thread.
 */
public final class PrivatePostgres implements AfterEachCallback {
  private static Path template;

  private Path data;
  private int port;
  private EmbeddedPostgres server;
  private boolean frozen;

  /** Starts a server on a fresh copy of the template data directory and a free port. */
  public Future<PrivatePostgres> start(Vertx vertx) {
    return blocking(vertx, () -> {
      data = Files.createTempDirectory("fetchbus-private-pg");
      copy(template(), data);
      port = freePort();
      server = launch(data, port);
      return this;
    });
  }

  /** {@code postgresql://postgres@127.0.0.1:<port>/postgres}: trust on loopback, as initdb set it up. */
  public String url() {
    return "postgresql://postgres@127.0.0.1:" + port + "/postgres";
  }

  public PgConnectOptions connectOptions() {
    return PgConnectOptions.fromUri(url());
  }

  /** SIGSTOP to the postmaster first (it forks no more backends), then to every process it started. */
  public Future<Void> freeze(Vertx vertx) {
    return blocking(vertx, () -> {
      long postmaster = postmasterPid();
      signal("STOP", List.of(postmaster));
      signal("STOP", descendants(postmaster));
      frozen = true;
      return null;
    });
  }

  /** SIGCONT to the postmaster and every process it started: the server goes on where it stopped. */
  public Future<Void> thaw(Vertx vertx) {
    return blocking(vertx, () -> {
      thaw();
      return null;
    });
  }

  /**
   * {@code kill -9} of the postmaster and every backend at once (stopped first, so none is forked in between),
   * then waits until none of them holds the port or the shared memory any more.
   */
  public Future<Void> kill(Vertx vertx) {
    return blocking(vertx, () -> {
      long postmaster = postmasterPid();
      signal("STOP", List.of(postmaster));
      List<Long> all = new ArrayList<>(descendants(postmaster));
      all.add(postmaster);
      signal("KILL", all);
      frozen = false;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (all.stream().anyMatch(PrivatePostgres::running)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("PostgreSQL processes " + all + " still running 30 s after kill -9");
        }
        Thread.sleep(20); // on a worker thread, waiting for the kernel to reap them: there is no event for it
      }
      // The killed postmaster's lock files name its pid, which the kernel may have given to another process by now:
      // a restart would take that process for a running postmaster and refuse to start (and pg_ctl would signal it).
      // They are the data directory's and the socket's (in the socket directory, /tmp by default).
      Files.deleteIfExists(data.resolve("postmaster.pid"));
      for (String dir : new String[] {"/tmp", "/run/postgresql", "/var/run/postgresql"}) {
        Files.deleteIfExists(Path.of(dir, ".s.PGSQL." + port + ".lock"));
        Files.deleteIfExists(Path.of(dir, ".s.PGSQL." + port));
      }
      // Releases the library's lock on the data directory. Its pg_ctl finds no server to stop, which it would log
      // at ERROR with a stack trace: not a failure here.
      ch.qos.logback.classic.Logger zonky = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("io.zonky");
      ch.qos.logback.classic.Level level = zonky.getLevel();
      zonky.setLevel(ch.qos.logback.classic.Level.OFF);
      try {
        closeQuietly();
      } finally {
        zonky.setLevel(level);
      }
      return null;
    });
  }

  /** Starts the server again on the same data directory and port, after {@link #kill}: it recovers from its WAL. */
  public Future<Void> restart(Vertx vertx) {
    return blocking(vertx, () -> {
      server = launch(data, port);
      return null;
    });
  }

  /** One SQL statement over a connection of its own; its rows as JSON objects by column name. */
  public Future<List<JsonObject>> rows(Vertx vertx, String sql) {
    return TestDatabase.rows(vertx, connectOptions(), sql);
  }

  /** The first column of the first row of {@code sql} as a long (counts, mostly). */
  public Future<Long> count(Vertx vertx, String sql) {
    return TestDatabase.count(vertx, connectOptions(), sql);
  }

  /** Thaws, stops and deletes the server, whatever the test left it in. */
  @Override
  public void afterEach(ExtensionContext context) throws IOException, InterruptedException {
    if (data == null) {
      return;
    }
    thaw();
    closeQuietly();
    delete(data);
    data = null;
  }

  private void thaw() throws IOException, InterruptedException {
    if (!frozen) {
      return;
    }
    long postmaster = postmasterPid();
    List<Long> all = new ArrayList<>(descendants(postmaster));
    all.add(postmaster);
    signal("CONT", all);
    frozen = false;
  }

  private void closeQuietly() {
    if (server != null) {
      try {
        server.close();
      } catch (IOException | RuntimeException ignored) {
        // killed already: nothing is left to stop
      }
      server = null;
    }
  }

  private static EmbeddedPostgres launch(Path data, int port) throws IOException {
    // synchronous_commit on, as a real server has it (the library turns it off): a kill -9 must not lose what was
    // committed, or a migration made just before it (the tests kill within a second of the start) would be gone.
    return EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(false).setPort(port)
        .setServerConfig("listen_addresses", "127.0.0.1").setServerConfig("synchronous_commit", "on")
        .setRegisterShutdownHook(false)
        .setPGStartupWait(java.time.Duration.ofSeconds(60))
        .start();
  }

  /** A data directory initialised once per JVM (initdb takes seconds on a busy machine), copied for each server. */
  private static synchronized Path template() throws IOException {
    if (template == null) {
      Path dir = Files.createTempDirectory("fetchbus-private-pg-template");
      EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(false).setPort(freePort())
          .setServerConfig("listen_addresses", "127.0.0.1").setRegisterShutdownHook(false)
          .setPGStartupWait(java.time.Duration.ofSeconds(60)).start().close();
      Files.deleteIfExists(dir.resolve("epg-lock"));
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          delete(dir);
        } catch (IOException ignored) {
          // the JVM is exiting
        }
      }));
      template = dir;
    }
    return template;
  }

  private long postmasterPid() throws IOException {
    return Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).get(0).trim());
  }

  private static List<Long> descendants(long pid) {
    return ProcessHandle.of(pid).map(p -> p.descendants().map(ProcessHandle::pid).toList()).orElse(List.of());
  }

  /** Whether {@code pid} still runs: gone, or a zombie (which holds neither port nor memory), is not running. */
  private static boolean running(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
    } catch (IOException gone) {
      return false;
    }
  }

  private static void signal(String signal, List<Long> pids) throws IOException, InterruptedException {
    if (pids.isEmpty()) {
      return;
    }
    List<String> command = new ArrayList<>(List.of("kill", "-" + signal));
    pids.forEach(p -> command.add(String.valueOf(p)));
    // A backend may exit between the listing and the signal: kill then fails for that one, which is fine.
    new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
    // PostgreSQL refuses a data directory others can read.
    Files.setPosixFilePermissions(to, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
  }

  private static void delete(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static <T> Future<T> blocking(Vertx vertx, Callable<T> work) {
    return vertx.executeBlocking(() -> {
      try {
        return work.call();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }, false);
  }
}
