package io.fetchbus.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The clients written elsewhere that some tests drive from Node.js ({@code src/test/js/package.json}: playwright-core
 * for the dashboard in Chromium, webrecorder's warcio for WARC files, Firecrawl's SDKs, firecrawl-mcp and the MCP
 * SDK), installed as package-lock.json pins them, with {@code npm ci}, the first time a test needs them on a machine.
 * It needs Node.js, npm and the npm registry. The Firecrawl packages need Node.js 22 or later: the {@code node}
 * package of the npm registry installs one there ({@link #node22}), so the machine's own Node.js may be older.
 */
public final class NodePackages {
  public static final Path DIR = Path.of("src/test/js");
  private static final List<String> PACKAGES = List.of("playwright-core", "warcio", "firecrawl-v1", "firecrawl-v2",
      "firecrawl-mcp", "@modelcontextprotocol/sdk", "node");

  /** ReplayWeb.page, webrecorder's replay of WARC files in the browser: its two bundled files are all it needs. */
  public static final String REPLAY_WEB_PAGE = "replaywebpage@2.5.3";

  private NodePackages() {}

  /**
   * The folder holding ReplayWeb.page's {@code ui.js} and {@code sw.js}, from its package in the npm registry ({@code
   * npm pack}, which checks the tarball's integrity against the registry): unpacked once under {@code target/npm}. Its
   * files are self-contained bundles, so its dependencies are not installed (some are not in every registry).
   */
  public static synchronized Path replayWebPage() throws IOException, InterruptedException {
    Path dir = Path.of("target/npm/" + REPLAY_WEB_PAGE.replace('@', '-'));
    if (Files.isRegularFile(dir.resolve("package/sw.js")) && Files.isRegularFile(dir.resolve("package/ui.js"))) {
      return dir.resolve("package");
    }
    Files.createDirectories(dir);
    run(dir, "npm", "pack", "--silent", REPLAY_WEB_PAGE);
    try (var tarballs = Files.list(dir)) {
      Path tarball = tarballs.filter(f -> f.toString().endsWith(".tgz")).findFirst()
          .orElseThrow(() -> new IllegalStateException("npm pack " + REPLAY_WEB_PAGE + " left no tarball in " + dir));
      run(dir, "tar", "xzf", tarball.getFileName().toString(), "package/ui.js", "package/sw.js");
    }
    return dir.resolve("package");
  }

  private static void run(Path dir, String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " in " + dir + " failed (it needs npm and the npm "
          + "registry): " + out);
    }
  }

  /** Runs {@code npm ci} unless every package is there; on the calling (test) thread, never an event loop. */
  public static synchronized void install() throws IOException, InterruptedException {
    if (PACKAGES.stream().allMatch(p -> Files.isDirectory(DIR.resolve("node_modules").resolve(p)))
        && Files.isExecutable(node22())) {
      return;
    }
    run(DIR, "npm", "ci", "--no-audit", "--no-fund");
  }

  /** The Node.js 22 that {@code npm ci} installed (the {@code node} package), as an absolute path. */
  public static Path node22() {
    return DIR.resolve("node_modules/.bin/node").toAbsolutePath();
  }
}
