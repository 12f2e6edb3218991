package io.fetchbus.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The clients written elsewhere that some tests drive from Node.js ({@code src/test/js/package.json}: playwright-core
 * for the dashboard in Chromium, webrecorder's warcio for WARC files), installed as package-lock.json pins them, with
 * {@code npm ci}, the first time a test needs them on a machine. It needs Node.js, npm and the npm registry.
 */
public final class NodePackages {
  public static final Path DIR = Path.of("src/test/js");
  private static final List<String> PACKAGES = List.of("playwright-core", "warcio");

  private NodePackages() {}

  /** Runs {@code npm ci} unless every package is there; on the calling (test) thread, never an event loop. */
  public static synchronized void install() throws IOException, InterruptedException {
    if (PACKAGES.stream().allMatch(p -> Files.isDirectory(DIR.resolve("node_modules").resolve(p)))) {
      return;
    }
    Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(DIR.toFile())
        .redirectErrorStream(true).start();
    String out = new String(npm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (npm.waitFor() != 0) {
      throw new IllegalStateException("npm ci in " + DIR + " failed (it needs Node.js, npm and the npm registry): " + out);
    }
  }
}
