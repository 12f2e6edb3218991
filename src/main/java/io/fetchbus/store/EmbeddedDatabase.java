package io.fetchbus.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A PostgreSQL server run by this process from the binaries inside the jar, so that the service works on a
 * machine with nothing installed. Its data directory persists across restarts. Blocking: start and close it
 * from a worker thread.
 */
public final class EmbeddedDatabase implements AutoCloseable {
  /**
   * How long the JVM's shutdown waits for the service to stop the server itself, last: longer than the launcher
   * waits for Vert.x to close (2 minutes), after which the server is stopped anyway rather than left running.
   */
  private static final long LAST_RESORT_MS = 130_000;

  private final EmbeddedPostgres postgres;
  private final CountDownLatch closed = new CountDownLatch(1);
  private final AtomicBoolean closing = new AtomicBoolean();

  private EmbeddedDatabase(EmbeddedPostgres postgres) {
    this.postgres = postgres;
  }

  /** Starts (and on first use initialises) the server in {@code dataDir}; port 0 picks a free one. */
  public static EmbeddedDatabase start(Path dataDir, int port) throws IOException {
    Files.createDirectories(dataDir);
    EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
        .setDataDirectory(dataDir)
        .setCleanDataDirectory(false)
        .setServerConfig("listen_addresses", "127.0.0.1")
        // The library turns synchronous_commit off (it is made for tests): a crash would then lose pages and
        // frontier moves that were already answered as stored. PostgreSQL's own default, on, keeps them.
        .setServerConfig("synchronous_commit", "on")
        // Not the library's hook, which stops the server at once on SIGTERM, while the service still drains
        // into it: the service stops it last (MainVerticle), and this hook only waits for that.
        .setRegisterShutdownHook(false);
    if (port > 0) {
      builder.setPort(port);
    }
    EmbeddedDatabase db = new EmbeddedDatabase(builder.start());
    Runtime.getRuntime().addShutdownHook(new Thread(db::closeLast, "embedded-postgresql-shutdown"));
    return db;
  }

  /** In the JVM's shutdown: waits for the service to have closed the server, and closes it if it did not. */
  private void closeLast() {
    try {
      if (closed.await(LAST_RESORT_MS, TimeUnit.MILLISECONDS)) {
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      close();
    } catch (IOException ignored) {
      // the JVM is exiting; nothing is left to tell
    }
  }

  public int port() {
    return postgres.getPort();
  }

  /** Trust authentication on loopback, as initdb sets it up for the embedded server: no password to keep. */
  public String url() {
    return "postgresql://postgres@127.0.0.1:" + postgres.getPort() + "/postgres";
  }

  @Override
  public void close() throws IOException {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    try {
      postgres.close();
    } finally {
      closed.countDown();
    }
  }
}
