import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Fetchbus against the seed stack (the Python service it replaces, /work/shared/seed-stack), in one run, on the same
 * local nginx site: wrk drives each load at Fetchbus, the seed stack with 2 processes and with 1, alternating, and
 * the table gives every figure beside the seed stack's, as a ratio (this machine is shared and noisy: absolute
 * numbers drift, ratios measured side by side hold). Also the crawl, a 60 s miss load with its search lag, the heap,
 * a 50,000-page crawl and start-up. Run by {@code bench/run}: {@code java -cp target/fetchbus.jar bench/Bench.java};
 * see bench/README.md.
 */
public class Bench {
  static Options opt;
  static Vertx vertx;
  static Path tmp;
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  /** Every process the bench started, stopped (with its descendants) at the end, on failure, or on a signal. */
  static final List<Process> CHILDREN = new CopyOnWriteArrayList<>();
  /** Every service the bench started (to tell their CPU while idle from another user's). */
  static final List<Side> SIDES = new CopyOnWriteArrayList<>();
  static final List<String> NOTES = new ArrayList<>();
  static final String RUN = Long.toString(System.currentTimeMillis(), 36);
  /** The jar the service runs: a copy taken at the start, so that a rebuild during the run changes nothing. */
  static Path jar;

  static final List<String> ALL = List.of("startup", "miss", "hit", "get", "search", "crawl", "scale");

  record Options(String pgUrl, String seedPgUrl, String jar, String seedDir, String python, int pages, int scalePages,
                 int seconds, int warmup, int rounds, int connections, int threads, int searchSeconds, int hot,
                 List<Integer> seedWorkers, boolean seedUvloop, String out, String tmp, List<String> only,
                 String command) {
    static Options parse(String[] args) {
      String pg = "", seedPg = "", jar = "target/fetchbus.jar", seedDir = "/work/shared/seed-stack";
      String python = "/usr/bin/python3", out = "bench/results/latest.md", tmp = "", only = "";
      int pages = 5000, scale = 50_000, seconds = 10, warmup = 60, rounds = 3, connections = 64, threads = 2;
      int searchSeconds = -1, hot = 100;
      String workers = "2,1";
      boolean uvloop = false;
      List<String> shown = new ArrayList<>();
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (!List.of("--pg", "--seed-pg", "--tmp", "--seed-dir", "--python").contains(a)) { // bench/run's own
          shown.add(a);
          if (a.startsWith("--") && !a.equals("--smoke") && !a.equals("--seed-uvloop") && i + 1 < args.length) {
            shown.add(args[i + 1]);
          }
        }
        switch (a) {
          case "--smoke" -> { // every scenario once, briefly: that the harness works, not how fast
            seconds = 2;
            warmup = 2;
            pages = 200;
            scale = 400;
            rounds = 1;
            searchSeconds = 6;
          }
          case "--pages" -> pages = Integer.parseInt(args[++i]);
          case "--scale" -> scale = Integer.parseInt(args[++i]);
          case "--seconds" -> seconds = Integer.parseInt(args[++i]);
          case "--warmup" -> warmup = Integer.parseInt(args[++i]);
          case "--rounds" -> rounds = Integer.parseInt(args[++i]);
          case "--connections" -> connections = Integer.parseInt(args[++i]);
          case "--threads" -> threads = Integer.parseInt(args[++i]);
          case "--search-seconds" -> searchSeconds = Integer.parseInt(args[++i]);
          case "--hot" -> hot = Integer.parseInt(args[++i]);
          case "--seed-workers" -> workers = args[++i];
          case "--seed-uvloop" -> uvloop = true;
          case "--seed-dir" -> seedDir = args[++i];
          case "--python" -> python = args[++i];
          case "--pg" -> pg = args[++i];
          case "--seed-pg" -> seedPg = args[++i];
          case "--jar" -> jar = args[++i];
          case "--out" -> out = args[++i];
          case "--tmp" -> tmp = args[++i];
          case "--only" -> only = args[++i];
          default -> throw new IllegalArgumentException("unknown option " + a + " (see bench/README.md)");
        }
      }
      if (pg.isBlank() || seedPg.isBlank()) {
        throw new IllegalArgumentException("--pg and --seed-pg (PostgreSQL URLs) are needed; bench/run sets both");
      }
      if (searchSeconds < 0) {
        searchSeconds = 6 * seconds; // 60 s with the default 10 s runs
      }
      List<Integer> seedWorkers = Stream.of(workers.split(",")).map(String::trim).filter(s -> !s.isEmpty())
          .map(Integer::parseInt).toList();
      return new Options(pg, seedPg, jar, seedDir, python, pages, scale, seconds, warmup, rounds, connections, threads,
          searchSeconds, Math.min(hot, pages), seedWorkers, uvloop, out, tmp, scenarios(only, scale),
          String.join(" ", shown));
    }

    /** Names (miss,hit,...) or the old digits: 1 miss, 2 hit and get, 3 crawl, 4 scale, 5 start-up, 6 search. */
    static List<String> scenarios(String only, int scale) {
      if (only.isBlank()) {
        return ALL.stream().filter(s -> !s.equals("scale") || scale > 0).toList();
      }
      List<String> chosen = new ArrayList<>();
      for (String part : only.toLowerCase(Locale.ROOT).split("[,\\s]+")) {
        if (part.matches("\\d+")) {
          for (char c : part.toCharArray()) {
            switch (c) {
              case '1' -> chosen.add("miss");
              case '2' -> chosen.addAll(List.of("hit", "get"));
              case '3' -> chosen.add("crawl");
              case '4' -> chosen.add("scale");
              case '5' -> chosen.add("startup");
              case '6' -> chosen.add("search");
              default -> throw new IllegalArgumentException("--only: no scenario " + c);
            }
          }
        } else if (ALL.contains(part)) {
          chosen.add(part);
        } else {
          throw new IllegalArgumentException("--only: no scenario " + part + "; one of " + ALL + " or digits 1-6");
        }
      }
      if (chosen.contains("scale") && scale <= 0) {
        throw new IllegalArgumentException("--only scale needs --scale N (e.g. 50000)");
      }
      return chosen;
    }

    boolean runs(String scenario) {
      return only.contains(scenario);
    }
  }

  public static void main(String[] args) throws Exception {
    opt = Options.parse(args);
    tmp = opt.tmp().isBlank() ? Files.createTempDirectory("fetchbus-bench") : Files.createDirectories(Path.of(opt.tmp()));
    boolean ownTmp = opt.tmp().isBlank();
    // nginx's workers run as nobody when the bench runs as root: they must read the site.
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    Runtime.getRuntime().addShutdownHook(new Thread(Bench::stopChildren, "stop-children"));
    orphanWatch();
    jar = tmp.resolve("fetchbus-service.jar");
    Files.copy(Path.of(opt.jar()), jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
    vertx = Vertx.vertx();
    String table;
    try {
      table = new Bench().run();
    } finally {
      stopChildren();
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      if (ownTmp) {
        deleteTree(tmp);
      }
    }
    System.out.println(table);
    Path out = Path.of(opt.out());
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, table);
    log("written to %s", out);
    System.exit(0);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The run

  Nginx nginx;
  Fetchbus fetchbus;
  final List<Seed> seeds = new ArrayList<>();
  Path missScript, hitScript, getScript, staticScript;
  /** Measured wrk runs by load and side. */
  final Map<String, List<Wrk.Result>> results = new LinkedHashMap<>();
  long firstStartMs = -1, startupMs = -1;
  Crawl crawl, scale;
  final List<Export> exports = new ArrayList<>();
  SearchLag search;
  String facts = "";

  String run() throws Exception {
    boolean loads = Stream.of("miss", "hit", "get", "search").anyMatch(opt::runs);
    nginx = Nginx.start(opt.pages() + opt.scalePages());
    writeScripts();
    facts = facts();

    // Fetchbus: the first start creates the schema; start-up (scenario 5) is timed on a restart, like every later one.
    fetchbus = Fetchbus.start();
    if (opt.runs("startup")) {
      firstStartMs = fetchbus.startupMs;
      fetchbus.stop();
      fetchbus = Fetchbus.start();
      startupMs = fetchbus.startupMs;
    }
    fetchbus.sampler.start();
    if (loads) {
      for (int w : opt.seedWorkers()) {
        seeds.add(Seed.start(w));
      }
    }
    List<Side> sides = new ArrayList<>();
    sides.add(fetchbus);
    sides.addAll(seeds);

    if (opt.runs("miss")) {
      load("miss", sides, (side, round) -> miss(side, "miss-r" + round));
    }
    if (opt.runs("hit")) {
      for (Side side : sides) {
        warmHot(side);
      }
      List<Side> withCeiling = new ArrayList<>(sides);
      withCeiling.add(nginx);
      load("hit", withCeiling, (side, round) -> side == nginx
          ? List.of("/static/p/0", staticScript.toString())
          : List.of("/v1/fetch", hitScript.toString(), nginx.base(), Integer.toString(opt.hot())));
    }
    if (opt.runs("get")) {
      Map<Side, Path> ids = new LinkedHashMap<>();
      for (Side side : sides) {
        ids.put(side, storedIds(side));
      }
      load("get", sides, (side, round) -> List.of("/v1/pages/", getScript.toString(), ids.get(side).toString()));
    }
    if (opt.runs("search")) {
      fetchbus.sampler.phase("search");
      search = SearchLag.run(this);
    }
    if (opt.runs("crawl") || opt.runs("scale")) {
      fetchbus.sampler.phase("crawl");
      if (opt.runs("crawl") && opt.warmup() > 0) {
        fetchbus.sampler.phase("crawl warm-up");
        // As every load: unmeasured runs first, for --warmup seconds as the others get, so that the crawl's own code
        // is compiled before it is timed (the 07:47 run spent a third of a crawled page's CPU in the JIT without one;
        // after one 10 s crawl, the 21:37 run still a fifth). Their pages are deleted after each: the timed crawl
        // stores every body anew, as a first crawl does.
        long warmUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(opt.warmup());
        int warmCrawls = 0;
        do {
          Crawl warm = Crawl.run(fetchbus, nginx, opt.pages(), "warm-up crawl");
          JsonObject deleted = new JsonObject(delete(fetchbus.port, "/v1/crawls/" + warm.id + "?pages=true"));
          log("warm-up crawl's pages deleted: %s", deleted.getValue("deletedPages"));
          warmCrawls++;
        } while (System.nanoTime() < warmUntil);
        NOTES.add(String.format(Locale.US, "The %,d-page crawl was timed after %d unmeasured crawls of the same pages "
            + "for at least %d s, its warm-up, whose pages were deleted after each.", opt.pages(), warmCrawls,
            opt.warmup()));
        fetchbus.sampler.phase("crawl");
      }
      crawl = opt.runs("crawl") ? Crawl.run(fetchbus, nginx, opt.pages(), "crawl") : null;
      if (crawl != null) {
        exports.add(Export.run(fetchbus, crawl, "jsonl", "&formats=text,links"));
        exports.add(Export.run(fetchbus, crawl, "warc", ""));
      }
      if (opt.runs("scale")) {
        fetchbus.sampler.phase("scale");
        scale = Crawl.run(fetchbus, nginx, opt.scalePages(), "crawl");
      }
    }
    fetchbus.sampler.phase("end");
    distinctBodies();
    fetchbus.stop();
    for (Seed s : seeds) {
      s.stop();
    }
    nginx.stop();
    return table();
  }

  /** A note: how many pages each side stored, and how many distinct bodies (only the hot URLs should repeat). */
  void distinctBodies() {
    List<String> parts = new ArrayList<>();
    try {
      List<long[]> fb = query(opt.pgUrl(), "SELECT count(*), count(DISTINCT content_sha256) FROM pages WHERE error IS NULL",
          r -> new long[] {r.getLong(0), r.getLong(1)});
      parts.add(String.format(Locale.US, "Fetchbus %,d pages, %,d distinct bodies", fb.get(0)[0], fb.get(0)[1]));
    } catch (Exception e) {
      parts.add("Fetchbus not checked (" + e.getMessage() + ")");
    }
    if (!seeds.isEmpty()) {
      try {
        List<long[]> sd = query(opt.seedPgUrl(), "SELECT count(*), count(DISTINCT sha256) FROM pages",
            r -> new long[] {r.getLong(0), r.getLong(1)});
        parts.add(String.format(Locale.US, "the seed stack %,d pages, %,d distinct bodies", sd.get(0)[0], sd.get(0)[1]));
      } catch (Exception e) {
        parts.add("the seed stack not checked (" + e.getMessage() + ")");
      }
    }
    NOTES.add("Stored at the end of the run: " + String.join("; ", parts) + " (the hit load's URLs and the crawl's "
        + "pages without a query may repeat a body; every miss is distinct).");
    log("%s", NOTES.get(NOTES.size() - 1));
  }

  interface RunArgs {
    List<String> of(Side side, int round) throws Exception;
  }

  /**
   * One load: rounds of measured runs, alternating the sides (Fetchbus, seed 2, seed 1, [nginx]) so that drift hits
   * them all; before a side's first measured run, the same load unmeasured for --warmup seconds. The arguments are
   * the path, the script and the script's own arguments.
   */
  void load(String load, List<Side> sides, RunArgs runArgs) throws Exception {
    for (int round = 1; round <= opt.rounds(); round++) {
      for (Side side : sides) {
        if (side == fetchbus) {
          fetchbus.sampler.phase(load);
        }
        if (round == 1 && opt.warmup() > 0 && side != nginx) {
          List<String> a = runArgs.of(side, 0);
          Wrk.Result w = Wrk.run(side, a.get(0), Path.of(a.get(1)), opt.warmup(), a.subList(2, a.size()));
          log("%s warm-up, %s: %s", load, side.name(), w.summary());
        }
        List<String> a = runArgs.of(side, round);
        Snap before = Snap.take(side, nginx);
        Wrk.Result r = Wrk.run(side, a.get(0), Path.of(a.get(1)), opt.seconds(), a.subList(2, a.size()));
        r.cpu = Snap.take(side, nginx).minus(before);
        results.computeIfAbsent(load + "/" + side.name(), k -> new ArrayList<>()).add(r);
        log("%s round %d, %s: %s; CPU per request: %s", load, round, side.name(), r.summary(),
            r.cpu.perRequest(r.requests, side));
      }
    }
  }

  /** The miss script's arguments: every URL distinct (a prefix per run, the thread, a counter), and so every body. */
  List<String> miss(Side side, String tag) {
    String prefix = RUN + "-" + tag + "-" + side.name().replaceAll("\\W+", "");
    return List.of("/v1/fetch", missScript.toString(), prefix, nginx.base(), Integer.toString(opt.pages()));
  }

  /**
   * Each hot URL fetched once, so that it is stored and cached before the hit load (the seed stack's other processes,
   * each with a cache of its own, get theirs in the warm-up).
   */
  void warmHot(Side side) throws Exception {
    for (int k = 0; k < opt.hot(); k++) {
      post(side.port(), "/v1/fetch", new JsonObject().put("url", nginx.base() + "/p/" + k + "?hot")
          .put("maxAgeSeconds", 3600).encode());
    }
  }

  /** Up to 20,000 ids this side stored (the miss load's pages, in practice), as a file the get script reads. */
  Path storedIds(Side side) throws Exception {
    boolean fb = side == fetchbus;
    String sql = fb ? "SELECT id FROM pages WHERE error IS NULL ORDER BY random() LIMIT 20000"
        : "SELECT id FROM pages ORDER BY random() LIMIT 20000";
    List<Long> ids = query(fb ? opt.pgUrl() : opt.seedPgUrl(), sql, r -> r.getLong(0));
    if (ids.size() < 100) { // --only get: store a few pages first
      for (int i = 0; i < 200; i++) {
        post(side.port(), "/v1/fetch", new JsonObject().put("url", nginx.base() + "/p/" + (i % opt.pages())
            + "?u=" + RUN + "-ids-" + side.name().replaceAll("\\W+", "") + "-" + i).encode());
      }
      ids = query(fb ? opt.pgUrl() : opt.seedPgUrl(), sql, r -> r.getLong(0));
    }
    Path file = tmp.resolve("ids-" + side.name().replaceAll("\\W+", "") + ".txt");
    Files.writeString(file, ids.stream().map(String::valueOf).collect(Collectors.joining("\n", "", "\n")));
    log("get: %d ids of %s's pages", ids.size(), side.name());
    return file;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // wrk and its scripts

  /** wrk's summary as one JSON line, from the main Lua state once every thread is done. */
  static final String DONE = """
      function done(summary, latency, requests)
        local e = summary.errors
        io.write(string.format('WRKJSON {"requests":%d,"durationUs":%d,"bytes":%d,"connect":%d,"read":%d,' ..
          '"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\\n',
          summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
          latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
      end
      """;

  /** Each wrk thread has a Lua state of its own: setup (in the main state) numbers them. */
  static final String THREAD_ID = """
      local threads = 0
      function setup(thread)
        threads = threads + 1
        thread:set("tid", threads)
      end
      local headers = { ["Content-Type"] = "application/json" }
      """;

  void writeScripts() throws IOException {
    missScript = tmp.resolve("miss.lua");
    Files.writeString(missScript, THREAD_ID + """
        -- POST /v1/fetch, every URL distinct across threads and runs: args prefix, base URL, pages
        local prefix, base, pages
        local n = 0
        function init(args)
          prefix, base, pages = args[1], args[2], tonumber(args[3])
        end
        function request()
          n = n + 1
          local body = string.format('{"url":"%s/p/%d?u=%s-%d-%d"}', base, (n + 7 * tid) % pages, prefix, tid, n)
          return wrk.format("POST", "/v1/fetch", headers, body)
        end
        """ + DONE);
    hitScript = tmp.resolve("hit.lua");
    Files.writeString(hitScript, THREAD_ID + """
        -- POST /v1/fetch over the hot URLs with maxAgeSeconds: args base URL, how many
        local reqs = {}
        function init(args)
          for k = 0, tonumber(args[2]) - 1 do
            reqs[#reqs + 1] = wrk.format("POST", "/v1/fetch", headers,
              string.format('{"url":"%s/p/%d?hot","maxAgeSeconds":3600}', args[1], k))
          end
          math.randomseed(7919 * tid)
        end
        function request()
          return reqs[math.random(#reqs)]
        end
        """ + DONE);
    getScript = tmp.resolve("get.lua");
    Files.writeString(getScript, THREAD_ID + """
        -- GET /v1/pages/{id}, random ids of this side's stored pages: args a file of ids, one a line
        local ids = {}
        function init(args)
          for line in io.lines(args[1]) do
            if #line > 0 then ids[#ids + 1] = line end
          end
          math.randomseed(7919 * tid + 1)
        end
        function request()
          return wrk.format("GET", "/v1/pages/" .. ids[math.random(#ids)])
        end
        """ + DONE);
    staticScript = tmp.resolve("static.lua");
    Files.writeString(staticScript, "-- GET of one static page, nginx alone: the physical ceiling\n" + DONE);
  }

  static final class Wrk {
    static final class Result {
      long requests, durationUs, bytes, connect, read, write, status, timeout, p50, p90, p99, max;
      Snap.Delta cpu;

      double seconds() {
        return durationUs / 1e6;
      }

      /** Answered with a status under 400 (wrk counts 4xx and 5xx in errors.status): 200 and 201 alike. */
      double okRate() {
        return (requests - status) / seconds();
      }

      long errors() {
        return connect + read + write + status + timeout;
      }

      String summary() {
        return String.format(Locale.US, "%,d requests in %.1f s, %,.0f ok/s, p50 %.1f ms, p99 %.1f ms%s", requests,
            seconds(), okRate(), p50 / 1000.0, p99 / 1000.0, errors() == 0 ? ""
                : String.format(", errors: status>399 %d, connect %d, read %d, write %d, timeout %d", status, connect,
                read, write, timeout));
      }
    }

    static Result run(Side side, String path, Path script, int seconds, List<String> args) throws Exception {
      List<String> cmd = new ArrayList<>(List.of("wrk", "-t" + opt.threads(), "-c" + opt.connections(),
          "-d" + seconds + "s", "--timeout", "10s", "-s", script.toString(),
          "http://127.0.0.1:" + side.port() + path));
      if (!args.isEmpty()) {
        cmd.add("--");
        cmd.addAll(args);
      }
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      CHILDREN.add(p);
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      boolean ended = p.waitFor(seconds + 60L, TimeUnit.SECONDS);
      CHILDREN.remove(p);
      String json = out.lines().filter(l -> l.startsWith("WRKJSON ")).findFirst().orElse(null);
      if (!ended || json == null) {
        p.destroyForcibly();
        throw new IllegalStateException("wrk gave no result (" + String.join(" ", cmd) + "):\n" + out);
      }
      JsonObject j = new JsonObject(json.substring("WRKJSON ".length()));
      Result r = new Result();
      r.requests = j.getLong("requests");
      r.durationUs = j.getLong("durationUs");
      r.bytes = j.getLong("bytes");
      r.connect = j.getLong("connect");
      r.read = j.getLong("read");
      r.write = j.getLong("write");
      r.status = j.getLong("status");
      r.timeout = j.getLong("timeout");
      r.p50 = j.getLong("p50");
      r.p90 = j.getLong("p90");
      r.p99 = j.getLong("p99");
      r.max = j.getLong("max");
      return r;
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The sides: Fetchbus, the seed stack, nginx

  /** Something wrk can load: a port and the processes whose CPU is its own. */
  interface Side {
    String name();

    int port();

    ProcessHandle root();

    /** A JVM: its CPU is also split by thread kind. */
    default boolean java() {
      return false;
    }

    /** The PostgreSQL database it stores into, whose backends' CPU is its own; null: none. */
    default String database() {
      return null;
    }
  }

  static String databaseOf(String url) {
    String path = URI.create(url).getPath();
    return path == null || path.length() < 2 ? null : path.substring(1);
  }

  /** The fat jar, with its defaults except what a single local host on loopback needs. */
  static final class Fetchbus implements Side {
    Process process;
    int port;
    long startupMs;
    Path log;
    final HeapSampler sampler = new HeapSampler(this);

    public String name() {
      return "Fetchbus";
    }

    public int port() {
      return port;
    }

    public ProcessHandle root() {
      return process.toHandle();
    }

    public boolean java() {
      return true;
    }

    public String database() {
      return databaseOf(opt.pgUrl());
    }

    static int starts;

    static Fetchbus start() throws Exception {
      Fetchbus s = new Fetchbus();
      s.port = freePort();
      s.log = tmp.resolve("fetchbus-" + (++starts) + ".log");
      // The heap target (≤ 256 MB) is the service's -Xmx: if it did not fit, it would show as an OutOfMemoryError
      // or a collapse of the rate, not as a number to argue about. FETCHBUS_BENCH_JVM_ARGS adds flags (JFR, say).
      List<String> cmd = new ArrayList<>(List.of("java", "-Xmx256m"));
      String extra = System.getenv().getOrDefault("FETCHBUS_BENCH_JVM_ARGS", "");
      if (!extra.isBlank()) {
        cmd.addAll(List.of(extra.trim().split("\\s+")));
      }
      cmd.addAll(List.of("-jar", jar.toString()));
      // Its output (a line per request) goes to a file: read by the bench, it would cost the bench's CPU.
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(s.log.toFile());
      Map<String, String> env = pb.environment();
      env.put("FETCHBUS_PG_URL", opt.pgUrl());
      env.put("FETCHBUS_HTTP_PORT", Integer.toString(s.port));
      // The site lives on 127.0.0.1, which the destination guard refuses by default.
      env.put("FETCHBUS_FETCH_GUARD_ALLOW_PRIVATE_NETWORKS", "true");
      // One local host serves the whole site: the per-host politeness that protects real sites would measure
      // nothing but itself here; and the API's rate limit is for clients, not for a load generator.
      env.put("FETCHBUS_FETCH_PER_HOST_CONCURRENCY", "64");
      env.put("FETCHBUS_FETCH_PER_HOST_QUEUE", "4096");
      env.put("FETCHBUS_CRAWL_PER_HOST_IN_FLIGHT", "64");
      env.put("FETCHBUS_LIMITS_RATE_PER_SECOND", "1000000");
      env.put("FETCHBUS_LIMITS_BURST", "1000000");
      // The caller's FETCHBUS_* settings win over the bench's (the child inherits the environment); the bench's own
      // variables are not the service's business. The database is the bench's (FETCHBUS_BENCH_PG_URL chooses it):
      // the bench counts pages, lag and CPU there, so a FETCHBUS_PG_URL left over from running the tests must not
      // send the service elsewhere.
      System.getenv().forEach((k, v) -> {
        if (k.startsWith("FETCHBUS_") && !k.startsWith("FETCHBUS_BENCH") && !k.equals("FETCHBUS_PG_URL")) {
          env.put(k, v);
        }
      });
      env.keySet().removeIf(k -> k.startsWith("FETCHBUS_BENCH"));
      long t0 = System.nanoTime();
      s.process = pb.start();
      CHILDREN.add(s.process);
      waitFor(s.process, s.port, "/ready", s.log, 120);
      s.startupMs = (System.nanoTime() - t0) / 1_000_000;
      log("Fetchbus ready on port %d in %d ms (log %s)", s.port, s.startupMs, s.log);
      SIDES.add(s);
      return s;
    }

    void stop() throws Exception {
      sampler.stop();
      sampler.sampleRss();
      stopProcess(process, 30);
      String problems;
      try (Stream<String> lines = Files.lines(log)) {
        List<String> bad = lines.filter(l -> l.contains(" ERROR ") || l.contains(" WARN ")
            || l.contains("OutOfMemoryError")).toList();
        problems = bad.isEmpty() ? "" : bad.size() + " WARN/ERROR lines, the first: " + bad.get(0);
        if (bad.stream().anyMatch(l -> l.contains("OutOfMemoryError"))) {
          sampler.oom = true;
        }
      }
      if (!problems.isEmpty()) {
        log("Fetchbus log %s: %s%s", log, problems, firstTrace());
        sampler.logProblems = problems;
      }
    }

    /** The stack trace under the log's first ERROR line, if any: the run's temporary directory is deleted at its end. */
    String firstTrace() throws IOException {
      List<String> lines = Files.readAllLines(log);
      for (int i = 0; i < lines.size(); i++) {
        if (lines.get(i).contains(" ERROR ")) {
          List<String> trace = lines.subList(i + 1, lines.size()).stream()
              .takeWhile(l -> l.startsWith("\t") || l.startsWith("Caused by") || l.matches("^[\\w.$]+(Exception|Error)\\b.*"))
              .limit(30).toList();
          return trace.isEmpty() ? "" : "\n" + String.join("\n", trace);
        }
      }
      return "";
    }
  }

  /** The seed stack: service.py with N processes sharing its port, on a database of its own. */
  static final class Seed implements Side {
    Process process;
    int port;
    int workers;
    long peakRssKb;

    public String name() {
      return "seed stack, " + workers + (workers == 1 ? " process" : " processes");
    }

    public int port() {
      return port;
    }

    public ProcessHandle root() {
      return process.toHandle();
    }

    public String database() {
      return databaseOf(opt.seedPgUrl());
    }

    static Seed start(int workers) throws Exception {
      Seed s = new Seed();
      s.workers = workers;
      s.port = freePort();
      Path log = tmp.resolve("seed-" + workers + ".log");
      List<String> cmd = new ArrayList<>(List.of(opt.python(), "service.py", "--port", Integer.toString(s.port),
          "--workers", Integer.toString(workers)));
      if (opt.seedUvloop()) {
        cmd.add("--uvloop");
      }
      ProcessBuilder pb = new ProcessBuilder(cmd).directory(Path.of(opt.seedDir()).toFile())
          .redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().put("DATABASE_URL", opt.seedPgUrl());
      s.process = pb.start();
      CHILDREN.add(s.process);
      waitFor(s.process, s.port, "/healthz", log, 60);
      // With several processes, wait until each answers (/healthz names its pid; each new connection may land on
      // another process of the port).
      java.util.Set<String> pids = new java.util.HashSet<>();
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (pids.size() < workers && System.nanoTime() < until) {
        HttpClient fresh = HttpClient.newHttpClient();
        try {
          pids.add(new JsonObject(fresh.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port
              + "/healthz")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body())
              .getValue("pid").toString());
        } catch (Exception ignored) {
          Thread.sleep(50);
        }
      }
      log("%s ready on port %d (processes answering: %s)", s.name(), s.port, pids);
      SIDES.add(s);
      return s;
    }

    void stop() throws Exception {
      peakRssKb = Stream.concat(Stream.of(process.toHandle()), process.descendants()).mapToLong(h -> rssHwmKb(h.pid()))
          .sum();
      stopProcess(process, 15);
    }
  }

  /**
   * The site: static files served by nginx (a child of the bench, with a config, pid and temp paths of its own).
   * Under /p/ every page goes through SSI, which echoes the query string into the body: distinct URLs, distinct
   * bodies. /static/ serves the same files as they are, the ceiling of a static page.
   */
  static final class Nginx implements Side {
    Process process;
    int port;
    String sizes;

    public String name() {
      return "nginx";
    }

    public int port() {
      return port;
    }

    public ProcessHandle root() {
      return process.toHandle();
    }

    String base() {
      return "http://127.0.0.1:" + port;
    }

    static Nginx start(int pages) throws Exception {
      Nginx n = new Nginx();
      n.port = freePort();
      Path dir = tmp.resolve("nginx");
      Path site = dir.resolve("site");
      Files.createDirectories(site.resolve("p"));
      long t0 = System.nanoTime();
      long total = 0, min = Long.MAX_VALUE, max = 0;
      for (int i = 0; i < pages; i++) {
        byte[] page = Site.page(i, pages, "<!--# echo var=\"args\" default=\"\" -->").getBytes(StandardCharsets.UTF_8);
        Files.write(site.resolve("p").resolve(Integer.toString(i)), page);
        total += page.length;
        min = Math.min(min, page.length);
        max = Math.max(max, page.length);
      }
      Files.writeString(site.resolve("robots.txt"),
          "User-agent: *\nDisallow: /private/\nSitemap: http://127.0.0.1:" + n.port + "/sitemap.xml\n");
      n.sizes = String.format(Locale.US, "%,d pages of %.1f KB on average (%.1f–%.1f KB)", pages,
          total / 1024.0 / pages, min / 1024.0, max / 1024.0);
      log("site: %s, written in %d ms", n.sizes, (System.nanoTime() - t0) / 1_000_000);
      for (String t : List.of("body", "proxy", "fastcgi", "uwsgi", "scgi")) {
        Files.createDirectories(dir.resolve("temp").resolve(t));
      }
      Path conf = dir.resolve("nginx.conf");
      Files.writeString(conf, """
          daemon off;
          master_process on;
          worker_processes auto;
          pid %1$s/nginx.pid;
          error_log %1$s/error.log warn;
          events { worker_connections 4096; }
          http {
            access_log off;
            sendfile on;
            tcp_nopush on;
            keepalive_requests 100000;
            client_body_temp_path %1$s/temp/body;
            proxy_temp_path %1$s/temp/proxy;
            fastcgi_temp_path %1$s/temp/fastcgi;
            uwsgi_temp_path %1$s/temp/uwsgi;
            scgi_temp_path %1$s/temp/scgi;
            types { text/plain txt; }
            server {
              listen 127.0.0.1:%2$d;
              root %1$s/site;
              location /p/ { ssi on; default_type text/html; charset utf-8; }
              location /static/ { alias %1$s/site/; default_type text/html; charset utf-8; }
            }
          }
          """.formatted(dir, n.port));
      try (Stream<Path> all = Files.walk(dir)) {
        for (Path p : all.toList()) {
          Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
        }
      }
      n.process = new ProcessBuilder("nginx", "-p", dir.toString(), "-e", dir.resolve("error.log").toString(), "-c",
          conf.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
      CHILDREN.add(n.process);
      waitFor(n.process, n.port, "/robots.txt", dir.resolve("error.log"), 20);
      // Every URL distinct must mean every body distinct: check that the query really reaches the page.
      String a = get(n.port, "/p/1?u=check-a"), b = get(n.port, "/p/1?u=check-b");
      if (a.equals(b) || !a.contains("u=check-a") || !b.contains("u=check-b")) {
        throw new IllegalStateException("nginx does not echo the query into the page (SSI): bodies would repeat");
      }
      log("nginx on %s (SSI echoes the query: %d and %d bytes, distinct)", n.base(), a.length(), b.length());
      return n;
    }

    void stop() throws Exception {
      stopProcess(process, 10);
    }
  }

  /**
   * The site's pages: page i (about 9.7 KB, deterministic) is an article with a title, a description, navigation,
   * paragraphs of English words with links in them and a list of related pages: 10–20 links to other pages, two of
   * them making a binary tree, so that every page is reachable from /p/0. {@code echo} goes into the page as it is
   * (nginx's SSI directive, which echoes the query string).
   */
  static final class Site {
    static final String[] WORDS = ("the of and to in is for that on with as by it from at this be are an or was "
        + "which can its their more has have not but one all new also other will when they been were about first "
        + "time into most some than only after over such two years where these would may many through between "
        + "each under how both while during used since well same same three made known because early however "
        + "system data service request page site link crawl index search store cache queue worker event loop "
        + "network server client body title text content query result process thread memory disk record table "
        + "history city river market language music science school church village county family government "
        + "station company island mountain season album film player team league university village war north "
        + "south east west century population area region village water energy design model image house garden "
        + "street road bridge railway library museum festival election council district province structure "
        + "method theory practice study report review article journal research series episode character novel "
        + "author editor version release support feature option setting default value number figure measure "
        + "simple quick careful steady bright quiet large small long short early late modern ancient local "
        + "public private national central annual general common popular special original").split(" +");

    static String page(int i, int pages, String echo) {
      Random r = new Random(i * 31L + 7);
      int target = 7400 + r.nextInt(3400); // 9.7 KB on average, once the last paragraph and the footer are in
      String title = words(r, 3 + r.nextInt(4), true);
      StringBuilder h = new StringBuilder(target + 1024);
      h.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
          .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>").append(title)
          .append(" | Bench site</title>\n<meta name=\"description\" content=\"").append(words(r, 18, true))
          .append(".\">\n<link rel=\"canonical\" href=\"/p/").append(i).append("\">")
          .append("<link rel=\"stylesheet\" href=\"/static/site.css\"></head>\n<body><header class=\"top\">")
          .append("<a class=\"brand\" href=\"/p/0\">Bench site</a><nav><ul>");
      int links = 10 + r.nextInt(11);
      int made = 0;
      // The tree: every page reachable from /p/0.
      for (int l = 0; l < 2; l++) {
        if (2 * i + 1 + l < pages) {
          int to = 2 * i + 1 + l;
          h.append("<li><a href=\"/p/").append(to).append("\">").append(words(r, 2, true)).append("</a></li>");
          made++;
        }
      }
      h.append("</ul></nav></header>\n<main><article><h1>").append(title).append("</h1>\n<p class=\"byline\">Page ")
          .append(i).append(" · updated ").append(2000 + r.nextInt(26)).append("-0").append(1 + r.nextInt(9))
          .append("-1").append(r.nextInt(10)).append(" · <span class=\"q\">").append(echo).append("</span></p>\n");
      int inline = Math.max(0, (links - made) / 2);
      int section = 0;
      while (h.length() < target) {
        if (r.nextInt(4) == 0) {
          h.append("<h2>").append(words(r, 2 + r.nextInt(4), true)).append("</h2>\n");
          section++;
        }
        h.append("<p>");
        for (int s = 3 + r.nextInt(4); s > 0; s--) {
          h.append(words(r, 8 + r.nextInt(13), true));
          if (inline > 0 && r.nextInt(3) == 0) {
            int to = r.nextInt(pages);
            h.append(" (see <a href=\"/p/").append(to).append("\">").append(words(r, 2 + r.nextInt(3), false))
                .append("</a>)");
            inline--;
            made++;
          }
          h.append(". ");
        }
        h.append("</p>\n");
      }
      h.append("</article>\n<aside><h2>Related pages</h2><ul>");
      while (made < links) {
        int to = r.nextInt(pages);
        h.append("<li><a href=\"/p/").append(to).append("\">").append(words(r, 3 + r.nextInt(3), true))
            .append("</a></li>");
        made++;
      }
      return h.append("</ul></aside></main>\n<footer><p>© Bench site. ").append(section)
          .append(" sections. <a href=\"/p/0\">Home</a></p></footer>\n</body></html>\n").toString();
    }

    static String words(Random r, int n, boolean capital) {
      StringBuilder s = new StringBuilder();
      for (int w = 0; w < n; w++) {
        String word = WORDS[r.nextInt(WORDS.length)];
        if (w == 0 && capital) {
          word = Character.toUpperCase(word.charAt(0)) + word.substring(1);
        }
        s.append(w == 0 ? "" : " ").append(word);
      }
      return s.toString();
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Heap, search lag, crawl

  /** Fetchbus's used heap from /metrics every second, by phase of the run, and any search-lag gauge it exposes. */
  static final class HeapSampler {
    final Fetchbus svc;
    final Map<String, Long> peakHeapMb = java.util.Collections.synchronizedMap(new LinkedHashMap<>());
    /** The old generation after the last collection (what stays live, garbage aside), at most, by phase. */
    final Map<String, Long> peakLiveMb = java.util.Collections.synchronizedMap(new LinkedHashMap<>());
    final Map<String, Double> searchGauges = new ConcurrentHashMap<>();
    volatile String phase = "start";
    volatile boolean running;
    volatile boolean oom;
    volatile String logProblems = "";
    long peakRssKb;
    Thread thread;

    HeapSampler(Fetchbus svc) {
      this.svc = svc;
    }

    void start() {
      running = true;
      thread = new Thread(() -> {
        while (running) {
          sample();
          try {
            Thread.sleep(1000);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "heap-sampler");
      thread.setDaemon(true);
      thread.start();
    }

    void phase(String p) {
      phase = p;
    }

    void sample() {
      try {
        String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + svc.port + "/metrics"))
            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
        double bytes = 0;
        for (String line : metrics.split("\n")) {
          if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
            bytes += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
          } else if (line.startsWith("jvm_gc_live_data_size_bytes ")) {
            peakLiveMb.merge(phase, (long) (Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)) / (1024 * 1024)),
                Math::max);
          } else if (line.startsWith("fetchbus_search") && line.matches("fetchbus_search\\w*(lag|pending|backlog|queue|unindexed)\\w*(\\{.*\\})? .*")) {
            searchGauges.merge(phase + " " + line.substring(0, line.lastIndexOf(' ')),
                Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)), Math::max);
          }
        }
        peakHeapMb.merge(phase, (long) (bytes / (1024 * 1024)), Math::max);
      } catch (Exception ignored) {
        // not answered within 5 s: the next sample asks again
      }
      sampleRss();
    }

    void sampleRss() {
      peakRssKb = Math.max(peakRssKb, rssHwmKb(svc.process.pid()));
    }

    long peak() {
      return peakHeapMb.values().stream().mapToLong(Long::longValue).max().orElse(-1);
    }

    void stop() throws InterruptedException {
      running = false;
      if (thread != null) {
        thread.interrupt();
        thread.join(10_000);
      }
    }
  }

  /**
   * A miss load on Fetchbus for --search-seconds (60), then until every page it stored is searchable. Until Fetchbus
   * reports it itself, the lag is read from its database: pages stored without error whose search column is still
   * NULL; when that column is generated (computed in the insert) the lag is 0 by construction.
   */
  static final class SearchLag {
    Wrk.Result load;
    String mode; // generated, column, none
    long maxLag = 0, lagAtEnd = 0;
    double catchUpSeconds = 0;
    boolean caughtUp = true;

    static SearchLag run(Bench b) throws Exception {
      SearchLag s = new SearchLag();
      List<String> generated = query(opt.pgUrl(), "SELECT is_generated FROM information_schema.columns WHERE "
          + "table_schema = current_schema() AND table_name = 'pages' AND column_name = 'search'", r -> r.getString(0));
      s.mode = generated.isEmpty() ? "none" : "ALWAYS".equalsIgnoreCase(generated.get(0)) ? "generated" : "column";
      log("search: %s", switch (s.mode) {
        case "generated" -> "pages.search is a generated column: lag 0 by construction";
        case "none" -> "pages has no search column: lag not measured";
        default -> "pages.search is filled after the insert: lag = pages with error IS NULL AND search IS NULL";
      });
      Pool pool = s.mode.equals("column") ? PgBuilder.pool().with(new io.vertx.sqlclient.PoolOptions().setMaxSize(1))
          .connectingTo(PgConnectOptions.fromUri(opt.pgUrl())).using(vertx).build() : null;
      String lagSql = "SELECT count(*) FROM pages WHERE error IS NULL AND search IS NULL";
      AtomicLong max = new AtomicLong();
      Thread sampler = null;
      if (pool != null) {
        sampler = new Thread(() -> {
          while (!Thread.currentThread().isInterrupted()) {
            try {
              long lag = await(pool.query(lagSql).execute()).iterator().next().getLong(0);
              max.accumulateAndGet(lag, Math::max);
              Thread.sleep(1000);
            } catch (InterruptedException e) {
              return;
            } catch (Exception e) {
              log("search lag not read: %s", e);
            }
          }
        }, "search-lag");
        sampler.setDaemon(true);
        sampler.start();
      }
      List<String> a = b.miss(b.fetchbus, "search");
      Snap before = Snap.take(b.fetchbus, b.nginx);
      s.load = Wrk.run(b.fetchbus, a.get(0), Path.of(a.get(1)), opt.searchSeconds(), a.subList(2, a.size()));
      s.load.cpu = Snap.take(b.fetchbus, b.nginx).minus(before);
      long end = System.nanoTime();
      if (pool != null) {
        sampler.interrupt();
        sampler.join(5000);
        s.lagAtEnd = await(pool.query(lagSql).execute()).iterator().next().getLong(0);
        s.maxLag = Math.max(max.get(), s.lagAtEnd);
        long lag = s.lagAtEnd;
        while (lag > 0 && System.nanoTime() - end < TimeUnit.SECONDS.toNanos(600)) {
          Thread.sleep(250);
          lag = await(pool.query(lagSql).execute()).iterator().next().getLong(0);
        }
        s.caughtUp = lag == 0;
        s.catchUpSeconds = (System.nanoTime() - end) / 1e9;
        await(pool.close());
      }
      log("search load: %s; lag max %d, at the end %d, caught up %s in %.1f s", s.load.summary(), s.maxLag,
          s.lagAtEnd, s.caughtUp, s.catchUpSeconds);
      return s;
    }
  }

  /** A crawl of the nginx site through Fetchbus's REST API, timed from submit to completed. */
  static final class Crawl {
    int pages, completed;
    double pagesPerSecond;
    Snap.Delta cpu;
    String id;

    static Crawl run(Fetchbus svc, Nginx site, int pages, String what) throws Exception {
      Crawl c = new Crawl();
      c.pages = pages;
      JsonObject spec = new JsonObject().put("url", site.base() + "/p/0").put("maxDepth", 100).put("limit", pages)
          .put("sitemap", "skip").put("formats", new io.vertx.core.json.JsonArray().add("metadata").add("text"));
      Snap before = Snap.take(svc, site);
      long start = System.nanoTime();
      JsonObject job = new JsonObject(post(svc.port, "/v1/crawls", spec.encode()));
      String status = job.getString("statusUrl");
      c.id = job.getString("id");
      while (true) {
        Thread.sleep(250);
        JsonObject s;
        try {
          s = new JsonObject(get(svc.port, status));
        } catch (Exception e) {
          log("crawl status not answered (%s); asking again", e);
          continue;
        }
        if (List.of("completed", "cancelled", "failed").contains(s.getString("status"))) {
          c.completed = s.getInteger("completed");
          break;
        }
      }
      c.pagesPerSecond = c.completed * 1e9 / (System.nanoTime() - start);
      c.cpu = Snap.take(svc, site).minus(before);
      log("%s of %d pages: %d completed, %.0f pages/s; CPU per page: %s", what, pages, c.completed, c.pagesPerSecond,
          c.cpu.perRequest(c.completed, svc));
      return c;
    }
  }

  /**
   * A crawl's export read to its end as a client would, counting what came: how long it took and, from the heap
   * sampler's phase of it, what the service held meanwhile (issue 18: the heap stays flat whatever the job's size).
   */
  static final class Export {
    String format;
    long bytes, lines;
    double seconds;

    static Export run(Fetchbus svc, Crawl crawl, String format, String query) throws Exception {
      Export e = new Export();
      e.format = format;
      svc.sampler.phase("export " + format);
      long start = System.nanoTime();
      HttpResponse<java.io.InputStream> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + svc.port
          + "/v1/crawls/" + crawl.id + "/export?format=" + format + query)).timeout(Duration.ofMinutes(10)).build(),
          HttpResponse.BodyHandlers.ofInputStream());
      try (java.io.InputStream in = r.body()) {
        if (r.statusCode() != 200) {
          throw new IllegalStateException("export " + format + ": " + r.statusCode() + " " + new String(in.readAllBytes()));
        }
        byte[] buf = new byte[64 * 1024];
        for (int n; (n = in.read(buf)) > 0; ) {
          e.bytes += n;
          for (int i = 0; i < n; i++) {
            e.lines += buf[i] == '\n' ? 1 : 0;
          }
        }
      }
      e.seconds = (System.nanoTime() - start) / 1e9;
      log("export %s of the %d-page crawl: %,d bytes in %.1f s", format, crawl.pages, e.bytes, e.seconds);
      return e;
    }

    String describe(HeapSampler heap) {
      return String.format(Locale.US, "%s %.1f MB in %.1f s (%s; heap meanwhile: used %d MB at most, live after GC "
              + "%d MB at most)", format, bytes / 1e6, seconds,
          format.equals("jsonl") ? String.format(Locale.US, "%,d lines", lines) : "gzip per record",
          heap.peakHeapMb.getOrDefault("export " + format, -1L), heap.peakLiveMb.getOrDefault("export " + format, -1L));
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // CPU by process, from /proc

  /**
   * CPU ticks (10 ms) used so far: by the side's processes (with a JVM's threads by kind), by every PostgreSQL
   * process, by the bench's nginx, by this process and by the children it has reaped (wrk: each run's wrk is reaped
   * before the snapshot after it), and by the whole machine.
   */
  record Snap(Map<String, Long> ticks) {
    static final List<Map.Entry<String, String>> THREAD_KINDS = List.of(Map.entry("vert.x-eventloo", "event loops"),
        // The extraction's own pool ("fetchbus-extraction-N", cut to 15 characters by Linux) is workers too.
        Map.entry("vert.x-worker", "workers"), Map.entry("fetchbus-extrac", "workers"), Map.entry("Compiler", "JIT"),
        Map.entry("GC ", "GC"), Map.entry("G1 ", "GC"));

    /** A backend's title: "postgres: 15/main: USER DATABASE HOST(PORT) STATE". */
    static final java.util.regex.Pattern BACKEND =
        java.util.regex.Pattern.compile("postgres: [^:]*: \\S+ (\\S+) (\\S+\\(\\d+\\)|\\[local\\])");

    static Snap take(Side side, Nginx nginx) {
      Map<String, Long> t = new TreeMap<>();
      // PostgreSQL by process title: the backends of the side's database are its own; the server's own processes
      // (WAL writer, checkpointer, background writer, autovacuum) serve every database; other databases' backends
      // (another user of this server) are counted apart, to explain an idle figure, not charged to the side.
      long own = 0, server = 0, others = 0;
      try (var dirs = Files.list(Path.of("/proc"))) {
        for (Path dir : dirs.filter(d -> d.getFileName().toString().matches("\\d+")).toList()) {
          String stat = stat(dir.resolve("stat"));
          if (stat.contains("(postgres)")) {
            long ticks = ticks(stat, false);
            String title;
            try {
              title = new String(Files.readAllBytes(dir.resolve("cmdline")), StandardCharsets.UTF_8);
            } catch (Exception e) {
              continue;
            }
            var m = BACKEND.matcher(title);
            if (!m.find()) {
              server += ticks;
            } else if (m.group(1).equals(side.database())) {
              own += ticks;
            } else {
              others += ticks;
            }
          }
        }
      } catch (Exception ignored) {
        // a process ended while listed
      }
      t.put("pg:backends", own);
      t.put("pg:server", server);
      t.put("pg:others", others);
      t.put("side", treeTicks(side.root()));
      if (nginx != null && side != nginx) {
        t.put("nginx", treeTicks(nginx.root()));
      }
      t.put("idle sides", SIDES.stream().filter(o -> o != side && o.root().isAlive()).mapToLong(o -> treeTicks(o.root())).sum());
      String self = stat(Path.of("/proc/self/stat"));
      t.put("bench", ticks(self, false));
      t.put("wrk", ticks(self, true));
      if (side.java()) {
        try (var tasks = Files.list(Path.of("/proc/" + side.root().pid() + "/task"))) {
          for (Path task : tasks.toList()) {
            String stat = stat(task.resolve("stat"));
            int open = stat.indexOf('('), close = stat.lastIndexOf(')');
            if (open < 0 || close < open) {
              continue;
            }
            String name = stat.substring(open + 1, close);
            String kind = THREAD_KINDS.stream().filter(k -> name.startsWith(k.getKey()) || name.contains(k.getKey()))
                .map(Map.Entry::getValue).findFirst().orElse("other");
            t.merge("thread:" + kind, ticks(stat, false), Long::sum);
          }
        } catch (Exception ignored) {
          // the process ended while listed
        }
      }
      try {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long all = 0;
        for (int i = 1; i < f.length; i++) {
          all += Long.parseLong(f[i]);
        }
        t.put("machine", all);
        t.put("busy", all - Long.parseLong(f[4]) - Long.parseLong(f[5])); // minus idle and iowait
      } catch (Exception ignored) {
        // no /proc/stat: not Linux
      }
      return new Snap(t);
    }

    static long treeTicks(ProcessHandle root) {
      return Stream.concat(Stream.of(root), root.descendants())
          .mapToLong(h -> ticks(stat(Path.of("/proc/" + h.pid() + "/stat")), false)).sum();
    }

    Delta minus(Snap before) {
      Map<String, Long> d = new TreeMap<>();
      // A sum over processes loses those that ended meanwhile (another user's backends): never below 0.
      ticks.forEach((k, v) -> d.put(k, Math.max(0, v - before.ticks.getOrDefault(k, 0L))));
      return new Delta(d);
    }

    record Delta(Map<String, Long> ticks) {
      Delta plus(Delta o) {
        Map<String, Long> d = new TreeMap<>(ticks);
        o.ticks.forEach((k, v) -> d.merge(k, v, Long::sum));
        return new Delta(d);
      }

      long get(String k) {
        return ticks.getOrDefault(k, 0L);
      }

      /** CPU that none of the bench's processes used (another user of this machine), in ticks. */
      long others() {
        return Math.max(0, get("busy") - get("side") - get("pg:backends") - get("pg:server") - get("nginx") - get("wrk")
            - get("bench") - get("idle sides"));
      }

      /** "Fetchbus 1.72 ms (event loops 0.73, ...), PostgreSQL 2.57 ms, nginx ..., wrk ..., bench ...; idle 2%". */
      String perRequest(long requests, Side side) {
        double per = 10.0 / Math.max(1, requests);
        StringBuilder threads = new StringBuilder();
        ticks.forEach((k, v) -> {
          if (k.startsWith("thread:") && v > 0) {
            threads.append(threads.isEmpty() ? " (" : ", ")
                .append(String.format(Locale.US, "%s %.3f", k.substring(7), v * per));
          }
        });
        if (!threads.isEmpty()) {
          threads.append(")");
        }
        double idle = 100.0 * (1 - (double) get("busy") / Math.max(1, get("machine")));
        return String.format(Locale.US, "%s %.3f ms%s, PostgreSQL %.3f ms (its backends %.3f, server %.3f)%s, wrk %.3f ms, "
                + "bench %.3f ms, the bench's other services (idle) %.3f ms; other databases' backends %.3f ms; machine idle "
                + "%.0f%%, other processes %.0f%% of it",
            side.name(), get("side") * per, threads, (get("pg:backends") + get("pg:server")) * per,
            get("pg:backends") * per, get("pg:server") * per,
            ticks.containsKey("nginx") ? String.format(Locale.US, ", nginx %.3f ms", get("nginx") * per) : "",
            get("wrk") * per, get("bench") * per, get("idle sides") * per, get("pg:others") * per, idle,
            100.0 * others() / Math.max(1, get("machine")));
      }
    }

    static String stat(Path file) {
      try {
        return Files.readString(file);
      } catch (Exception e) {
        return "";
      }
    }

    /** utime + stime (fields 14 and 15), or with {@code children} cutime + cstime (16, 17), after the name. */
    static long ticks(String stat, boolean children) {
      int close = stat.lastIndexOf(')');
      if (close < 0) {
        return 0;
      }
      String[] f = stat.substring(close + 2).split(" ");
      return children ? Long.parseLong(f[13]) + Long.parseLong(f[14]) : Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The table

  /** The runs of one load on one side: median rate and p99, the range, errors and CPU over all its runs. */
  final class Agg {
    final List<Wrk.Result> runs;
    final Side side;

    Agg(String load, Side side) {
      this.runs = results.getOrDefault(load + "/" + side.name(), List.of());
      this.side = side;
    }

    boolean empty() {
      return runs.isEmpty();
    }

    double rate() {
      return median(runs.stream().mapToDouble(Wrk.Result::okRate).sorted().toArray());
    }

    double p99() {
      return median(runs.stream().mapToDouble(r -> r.p99 / 1000.0).sorted().toArray());
    }

    long requests() {
      return runs.stream().mapToLong(r -> r.requests).sum();
    }

    long errors() {
      return runs.stream().mapToLong(Wrk.Result::errors).sum();
    }

    String cell() {
      if (empty()) {
        return "–";
      }
      double[] rates = runs.stream().mapToDouble(Wrk.Result::okRate).sorted().toArray();
      String range = rates.length > 1 ? String.format(Locale.US, " (%,.0f–%,.0f)", rates[0], rates[rates.length - 1]) : "";
      return String.format(Locale.US, "%,.0f req/s%s, p99 %.1f ms%s", rate(), range, p99(), errorNote());
    }

    /** Errors and answers of 400 or more, shown when they are more than 0.1% of the requests. */
    String errorNote() {
      long empty = runs.stream().filter(r -> r.requests == 0).count();
      if (empty > 0) {
        return String.format(Locale.US, " ⚠ %d of %d runs had no answer at all", empty, runs.size());
      }
      long e = errors();
      if (e == 0 || e * 1000 < requests()) {
        return "";
      }
      long status = runs.stream().mapToLong(r -> r.status).sum();
      return String.format(Locale.US, " ⚠ %.1f%% errors (%,d ≥ 400, %,d other)", 100.0 * e / Math.max(1, requests()),
          status, e - status);
    }

    String cpu() {
      Snap.Delta sum = runs.stream().map(r -> r.cpu).reduce(Snap.Delta::plus).orElse(new Snap.Delta(Map.of()));
      return sum.perRequest(requests(), side);
    }
  }

  static double median(double[] sorted) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int m = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  }

  static String ratio(double a, double b) {
    return Double.isNaN(a) || Double.isNaN(b) || b <= 0 ? "–" : String.format(Locale.US, "%.2f×", a / b);
  }

  static String verdict(boolean met) {
    return met ? "**met**" : "not met";
  }

  String table() {
    StringBuilder t = new StringBuilder();
    t.append("# Fetchbus against the seed stack, ")
        .append(ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")))
        .append("\n\n").append(facts).append("\n\n`").append(("bash bench/run " + opt.command()).trim()).append("`: wrk -t")
        .append(opt.threads()).append(" -c").append(opt.connections()).append(", ").append(opt.rounds())
        .append(opt.rounds() == 1 ? " round" : " rounds").append(" of ").append(opt.seconds())
        .append(" s runs per load, alternating Fetchbus / ")
        .append(seeds.stream().map(Seed::name).collect(Collectors.joining(" / ")))
        .append(", each after a ").append(opt.warmup()).append(" s warm-up before its first run; ")
        .append("figures are medians (range), ok answers only; Fetchbus at -Xmx256m. Site: ")
        .append(nginx == null ? "" : nginx.sizes).append(", served by nginx.");
    {
      long others = 0, machine = 0;
      for (List<Wrk.Result> rs : results.values()) {
        for (Wrk.Result r : rs) {
          others += r.cpu.others();
          machine += r.cpu.get("machine");
        }
      }
      if (machine > 0) {
        t.append(String.format(Locale.US, " During the measured runs, processes other than the bench's used %.0f%% of "
            + "the machine (another user: compare only figures measured side by side).", 100.0 * others / machine));
      }
    }
    t.append("\n\n");

    Seed base = seeds.isEmpty() ? null : seeds.get(0);
    t.append("| load |");
    for (Seed s : seeds) {
      t.append(' ').append(s.name()).append(" |");
    }
    t.append(" Fetchbus | ratio to ").append(base == null ? "the seed stack" : base.workers + (base.workers == 1
        ? " process" : " processes")).append(" | target |\n|---|");
    t.append("---|".repeat(seeds.size())).append("---|---|---|\n");

    Agg fbMiss = new Agg("miss", fetchbus), seedMiss = base == null ? null : new Agg("miss", base);
    double seedMissRate = seedMiss == null || seedMiss.empty() ? Double.NaN : seedMiss.rate();

    if (opt.runs("miss")) {
      boolean met = seedMiss != null && fbMiss.rate() >= 3 * seedMissRate && fbMiss.p99() <= seedMiss.p99();
      row(t, "miss: POST /v1/fetch, every URL and body distinct", "miss", fbMiss.cell(),
          ratio(fbMiss.rate(), seedMissRate), "≥ 3×, p99 ≤ seed p99: " + verdict(met));
    }
    if (opt.runs("hit")) {
      Agg fb = new Agg("hit", fetchbus), ng = new Agg("hit", nginx);
      double seedRate = base == null ? Double.NaN : new Agg("hit", base).rate();
      row(t, "hit: POST /v1/fetch over " + opt.hot() + " hot URLs with maxAgeSeconds", "hit", fb.cell(),
          ratio(fb.rate(), seedRate), String.format(Locale.US, "≥ 3×: %s (nginx serving the page statically: %s)",
              verdict(fb.rate() >= 3 * seedRate), ng.cell()));
    }
    if (opt.runs("get")) {
      Agg fb = new Agg("get", fetchbus);
      double seedRate = base == null ? Double.NaN : new Agg("get", base).rate();
      row(t, "GET /v1/pages/{id}, random ids", "get", fb.cell(), ratio(fb.rate(), seedRate),
          "≥ 3×: " + verdict(fb.rate() >= 3 * seedRate));
    }
    if (crawl != null) {
      String cell = String.format(Locale.US, "%,.0f pages/s (%,d of %,d pages)", crawl.pagesPerSecond, crawl.completed,
          crawl.pages);
      t.append("| crawl of the ").append(String.format(Locale.US, "%,d", opt.pages()))
          .append("-page site (Fetchbus pages/s vs the seed's miss rate) |");
      for (Seed s : seeds) {
        Agg m = new Agg("miss", s);
        t.append(m.empty() ? " – |" : String.format(Locale.US, " miss %,.0f req/s (no crawl) |", m.rate()));
      }
      t.append(' ').append(cell).append(" | ").append(ratio(crawl.pagesPerSecond, seedMissRate)).append(" | ≥ 1.5×: ")
          .append(Double.isNaN(seedMissRate) ? "– (no miss run)" : verdict(crawl.pagesPerSecond >= 1.5 * seedMissRate))
          .append(" |\n");
    }
    if (search != null) {
      String lag = switch (search.mode) {
        case "generated" -> "search lag 0 by construction (pages.search is a generated column)";
        case "none" -> "search lag not measured (pages has no search column)";
        default -> String.format(Locale.US, "search lag (counted in its database every second) max %,d pages (%,d at "
                + "the end), %s", search.maxLag,
            search.lagAtEnd, search.caughtUp ? String.format(Locale.US, "caught up %.1f s after", search.catchUpSeconds)
                : String.format(Locale.US, "not caught up %.0f s after", search.catchUpSeconds));
      };
      String gauges = fetchbus.sampler.searchGauges.entrySet().stream().filter(e -> e.getKey().startsWith("search "))
          .map(e -> String.format(Locale.US, e.getValue() < 100 ? "%s max %.1f" : "%s max %,.0f", e.getKey().substring(7),
              e.getValue()))
          .collect(Collectors.joining(", "));
      t.append("| with search: ").append(opt.searchSeconds()).append(" s miss load, fetched+stored+searchable |");
      for (Seed s : seeds) {
        Agg m = new Agg("miss", s);
        t.append(m.empty() ? " – |" : String.format(Locale.US, " miss %,.0f req/s (no search) |", m.rate()));
      }
      t.append(String.format(Locale.US, " %,.0f req/s sustained, p99 %.1f ms%s; %s%s | %s | ≥ 1.5× the seed's miss rate: %s |%n",
          search.load.okRate(), search.load.p99 / 1000.0, search.load.errors() * 1000 > search.load.requests
              ? String.format(Locale.US, " ⚠ %,d errors", search.load.errors()) : "", lag,
          gauges.isEmpty() ? "" : "; its own gauges (/metrics, every second): " + gauges, ratio(search.load.okRate(), seedMissRate),
          Double.isNaN(seedMissRate) ? "–" : verdict(search.load.okRate() >= 1.5 * seedMissRate)));
    }
    {
      HeapSampler h = fetchbus.sampler;
      long peak = h.peak();
      StringBuilder cell = new StringBuilder(String.format(Locale.US, "peak heap %d MB of -Xmx256m, peak RSS %d MB",
          peak, h.peakRssKb / 1024));
      cell.append(h.oom ? ", ⚠ OutOfMemoryError in its log" : "");
      boolean scaleMet = true;
      String ratio = "–";
      if (scale != null) {
        cell.append(String.format(Locale.US, "; %,d-page crawl %,.0f pages/s (%,d completed)", scale.pages,
            scale.pagesPerSecond, scale.completed));
        if (crawl != null) {
          cell.append(String.format(Locale.US, ", %.0f%% of the %,d-page rate", 100 * scale.pagesPerSecond
              / crawl.pagesPerSecond, crawl.pages));
          scaleMet = scale.pagesPerSecond >= 0.8 * crawl.pagesPerSecond;
        }
      } else {
        cell.append("; large crawl not run (--scale 50000)");
      }
      t.append("| heap ≤ 256 MB throughout; ").append(String.format(Locale.US, "%,d", opt.scalePages() > 0
          ? opt.scalePages() : 50000)).append("-page crawl within 20% of the ")
          .append(String.format(Locale.US, "%,d", opt.pages())).append("-page rate |");
      for (Seed s : seeds) {
        t.append(String.format(Locale.US, " peak RSS %d MB (all processes) |", s.peakRssKb / 1024));
      }
      t.append(' ').append(cell).append(" | ").append(ratio).append(" | heap ≤ 256 MB: ")
          .append(verdict(peak >= 0 && peak <= 256 && !h.oom)).append("; within 20%: ")
          .append(scale == null || crawl == null ? "–" : verdict(scaleMet)).append(" |\n");
    }

    // Details: every run, the CPU per request by process, start-up, the heap by phase.
    t.append("\n## Details\n\n| load | side | runs (ok req/s) | p50 / p99 | errors | CPU per request |\n|---|---|---|---|---|---|\n");
    for (String load : List.of("miss", "hit", "get")) {
      List<Side> sides = new ArrayList<>();
      sides.add(fetchbus);
      sides.addAll(seeds);
      sides.add(nginx);
      for (Side side : sides) {
        Agg a = new Agg(load, side);
        if (a.empty()) {
          continue;
        }
        t.append(String.format(Locale.US, "| %s | %s | %s | %s | %s | %s |%n", load, side.name(),
            a.runs.stream().map(r -> String.format(Locale.US, "%,.0f", r.okRate())).collect(Collectors.joining(", ")),
            a.runs.stream().map(r -> String.format(Locale.US, "%.1f / %.1f ms", r.p50 / 1000.0, r.p99 / 1000.0))
                .collect(Collectors.joining(", ")),
            a.errors() == 0 ? "0" : String.format(Locale.US, "%,d of %,d (%,d ≥ 400)", a.errors(), a.requests(),
                a.runs.stream().mapToLong(r -> r.status).sum()),
            a.cpu()));
      }
    }
    if (search != null) {
      t.append(String.format(Locale.US, "| search | Fetchbus | %,.0f | %.1f / %.1f ms | %s | %s |%n", search.load.okRate(),
          search.load.p50 / 1000.0, search.load.p99 / 1000.0, search.load.errors() == 0 ? "0"
              : String.format(Locale.US, "%,d of %,d", search.load.errors(), search.load.requests),
          search.load.cpu.perRequest(search.load.requests, fetchbus)));
    }
    for (Crawl c : Stream.of(crawl, scale).filter(c -> c != null).toList()) {
      t.append(String.format(Locale.US, "| crawl of %,d pages | Fetchbus | %,.0f pages/s | – | %,d completed | %s |%n",
          c.pages, c.pagesPerSecond, c.completed, c.cpu.perRequest(c.completed, fetchbus).replace("request", "page")));
    }
    t.append("\n");
    if (startupMs >= 0) {
      t.append(String.format(Locale.US, "Start-up: java -jar to /ready %,d ms on a restart (target ≤ 2,000 ms: %s); the "
              + "run's first start, which created the schema, %,d ms; jar %d MB.%n", startupMs, verdict(startupMs <= 2000),
          firstStartMs, jar.toFile().length() / (1024 * 1024)));
    }
    if (!exports.isEmpty()) {
      t.append(String.format(Locale.US, "Exports of the %,d-page crawl, read to the end at once: ", crawl.pages))
          .append(exports.stream().map(e -> e.describe(fetchbus.sampler)).collect(Collectors.joining("; ")))
          .append(String.format(Locale.US, "; during the crawl itself: used %d MB, live after GC %d MB at most.%n",
              fetchbus.sampler.peakHeapMb.getOrDefault("crawl", -1L), fetchbus.sampler.peakLiveMb.getOrDefault("crawl", -1L)));
    }
    t.append("Fetchbus's peak heap by phase (MB, sampled every second from /metrics): ")
        .append(fetchbus.sampler.peakHeapMb.entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
            .collect(Collectors.joining(", "))).append(".\n");
    if (!fetchbus.sampler.logProblems.isEmpty()) {
      t.append("Fetchbus's log: ").append(fetchbus.sampler.logProblems.replace("|", "\\|")).append("\n");
    }
    t.append("CPU per request is from /proc over the measured runs: the side's processes (a JVM's threads by kind), "
        + "PostgreSQL's backends of the side's database and its server processes (WAL, checkpoints, vacuum: shared by every "
        + "database), the bench's nginx, wrk, and the bench's JVM; other databases' backends (another user of this "
        + "server) are shown apart, not charged to the side.\n");
    for (String n : NOTES) {
      t.append(n).append('\n');
    }
    return t.toString();
  }

  void row(StringBuilder t, String label, String load, String fetchbusCell, String ratio, String target) {
    t.append("| ").append(label).append(" |");
    for (Seed s : seeds) {
      t.append(' ').append(new Agg(load, s).cell()).append(" |");
    }
    t.append(' ').append(fetchbusCell).append(" | ").append(ratio).append(" | ").append(target).append(" |\n");
  }

  String facts() throws Exception {
    String pg = query(opt.pgUrl(), "SHOW server_version", r -> r.getString(0)).get(0);
    String nginxV = output("nginx", "-v").replace("nginx version: ", "").trim();
    String wrkV = output("wrk", "-v").lines().findFirst().orElse("").replaceAll(" \\[.*", "").trim();
    String py = output(opt.python(), "-c", "import sys, aiohttp, asyncpg; print('Python', sys.version.split()[0], "
        + "'aiohttp', aiohttp.__version__, 'asyncpg', asyncpg.__version__)").trim();
    String built = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").format(
        Files.getLastModifiedTime(jar).toInstant().atZone(ZoneOffset.UTC));
    return String.format(Locale.US, "Machine: nproc %d, %d GB, JDK %s (%s), PostgreSQL %s, %s, %s, %s (%s, %s/service.py). "
            + "Fetchbus: %s, built %s.",
        Runtime.getRuntime().availableProcessors(), memoryGb(), System.getProperty("java.version"),
        System.getProperty("java.vm.vendor"), pg, nginxV, wrkV, py, opt.python(), opt.seedDir(), opt.jar(), built);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Helpers

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }

  /** Polls a path until it answers 200; fails with the log's tail if the process ends first or time runs out. */
  static void waitFor(Process p, int port, String path, Path log, int seconds) throws Exception {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      try {
        HttpResponse<Void> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException ignored) {
        // not listening yet
      }
      if (!p.isAlive() || System.nanoTime() > until) {
        String tail = "";
        try {
          List<String> lines = Files.readAllLines(log);
          tail = String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (Exception ignored) {
          // no log
        }
        throw new IllegalStateException((p.isAlive() ? "no answer on " : "exited before answering on ") + path
            + " (pid " + p.pid() + (p.isAlive() ? "" : ", exit status " + p.exitValue()) + "); the end of " + log + ":\n" + tail);
      }
      Thread.sleep(20);
    }
  }

  static String get(int port, String path) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() >= 400) {
      throw new IllegalStateException("GET " + path + ": " + r.statusCode() + " " + r.body());
    }
    return r.body();
  }

  static String delete(int port, String path) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofMinutes(5)).DELETE().build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() >= 400) {
      throw new IllegalStateException("DELETE " + path + ": " + r.statusCode() + " " + r.body());
    }
    return r.body();
  }

  static String post(int port, String path, String json) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() >= 400) {
      throw new IllegalStateException("POST " + path + " " + json + ": " + r.statusCode() + " " + r.body());
    }
    return r.body();
  }

  static <T> List<T> query(String url, String sql, java.util.function.Function<Row, T> map) throws Exception {
    Pool pool = PgBuilder.pool().with(new io.vertx.sqlclient.PoolOptions().setMaxSize(1))
        .connectingTo(PgConnectOptions.fromUri(url)).using(vertx).build();
    try {
      List<T> out = new ArrayList<>();
      for (Row r : await(pool.query(sql).execute())) {
        out.add(map.apply(r));
      }
      return out;
    } finally {
      await(pool.close());
    }
  }

  static String output(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(10, TimeUnit.SECONDS);
      return out;
    } catch (Exception e) {
      return "?";
    }
  }

  /** SIGTERM to the process (it stops its own children), then SIGKILL to whatever of the tree is left. */
  static void stopProcess(Process p, int seconds) throws InterruptedException {
    if (p == null) {
      return;
    }
    List<ProcessHandle> tree = Stream.concat(p.descendants(), Stream.of(p.toHandle())).toList();
    p.destroy();
    if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
      log("%s did not stop in %d s: killed", p.info().command().orElse("process " + p.pid()), seconds);
    }
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    for (ProcessHandle h : tree) {
      while (h.isAlive() && System.nanoTime() < until) {
        h.destroy();
        Thread.sleep(50);
      }
      if (h.isAlive()) {
        h.destroyForcibly();
      }
    }
    p.waitFor(5, TimeUnit.SECONDS);
    CHILDREN.remove(p);
  }

  /**
   * If whoever started the bench is gone without stopping it (bench/run killed with SIGKILL, so its trap never ran),
   * stop everything the bench started (the shutdown hook) and its temporary directory, and exit.
   */
  static void orphanWatch() {
    ProcessHandle parent = ProcessHandle.current().parent().orElse(null);
    if (parent == null) {
      return;
    }
    Thread watch = new Thread(() -> {
      while (true) {
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          return;
        }
        long now = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L);
        if (!parent.isAlive() || now != parent.pid()) {
          log("the process that started the bench (%d) is gone: stopping", parent.pid());
          stopChildren();
          deleteTree(tmp);
          Runtime.getRuntime().halt(143);
        }
      }
    }, "orphan-watch");
    watch.setDaemon(true);
    watch.start();
  }

  /** On the way out, whatever happened: every child still running, with its descendants. */
  static void stopChildren() {
    for (Process p : List.copyOf(CHILDREN)) {
      try {
        stopProcess(p, 15);
      } catch (Exception ignored) {
        // going down anyway
      }
    }
  }

  static long rssHwmKb(long pid) {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (l.startsWith("VmHWM:")) {
          return Long.parseLong(l.replaceAll("\\D", ""));
        }
      }
    } catch (Exception ignored) {
      // the process ended
    }
    return 0;
  }

  static long memoryGb() {
    try {
      return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal"))
          .map(l -> Long.parseLong(l.replaceAll("\\D", "")) / (1024 * 1024)).findFirst().orElse(0L);
    } catch (Exception e) {
      return 0;
    }
  }

  static void deleteTree(Path root) {
    try (Stream<Path> all = Files.walk(root)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (Exception ignored) {
      // best effort
    }
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.MINUTES);
  }

  static void log(String format, Object... args) {
    System.err.printf(Locale.US, "[bench] " + format + "%n", args);
  }
}
