import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * Fetchbus's benchmark: starts a generated site, the fat jar against a real PostgreSQL, and the ceilings, then runs
 * the scenarios and prints every figure next to a ceiling measured in the same run, as a ratio (this machine is
 * shared and noisy: absolute numbers drift, ratios measured side by side hold). Run by {@code bench/run}:
 * {@code java -cp target/fetchbus.jar bench/Bench.java [options]}; see bench/README.md.
 */
public class Bench {
  static final Random RANDOM = new Random(42);
  static Vertx vertx;
  static Options opt;
  static Service service;

  record Options(String pgUrl, String jar, int pages, int scalePages, int seconds, int warmup, int connections,
                 String out, String only) {
    static Options parse(String[] args) {
      String pg = System.getenv().getOrDefault("FETCHBUS_PG_URL", "");
      int pages = 5000, scale = 0, seconds = 10, warmup = 3, connections = 32;
      String jar = "target/fetchbus.jar", out = "bench/results/latest.md", only = "12345";
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--pages" -> pages = Integer.parseInt(args[++i]);
          case "--scale" -> scale = Integer.parseInt(args[++i]);
          case "--seconds" -> seconds = Integer.parseInt(args[++i]);
          case "--warmup" -> warmup = Integer.parseInt(args[++i]);
          case "--connections" -> connections = Integer.parseInt(args[++i]);
          case "--pg" -> pg = args[++i];
          case "--jar" -> jar = args[++i];
          case "--out" -> out = args[++i];
          case "--only" -> only = args[++i];
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
      }
      if (pg.isBlank()) {
        throw new IllegalArgumentException("a PostgreSQL URL is needed: --pg or FETCHBUS_PG_URL (bench/run sets one)");
      }
      return new Options(pg, jar, pages, scale, seconds, warmup, connections, out, only);
    }
  }

  /** One row of the results table. */
  record Row(String scenario, String figure, double value, String unit, String ceilingName, double ceiling,
             String target, String extra) {
    double ratio() {
      return ceiling <= 0 ? Double.NaN : value / ceiling;
    }
  }

  static final List<Row> rows = new ArrayList<>();

  public static void main(String[] args) throws Exception {
    opt = Options.parse(args);
    vertx = Vertx.vertx();
    int sitePort = await(Site.start(opt.pages() + opt.scalePages()));
    String site = "http://127.0.0.1:" + sitePort;
    log("site of %d pages on %s", opt.pages(), site);
    // The first start creates the schema; scenario 5 is a start like every later one: stop, and time a restart.
    Service first = Service.start(opt, site);
    long firstStartMs = first.startupMs;
    first.stop();
    Service svc = Service.start(opt, site);
    svc.firstStartMs = firstStartMs;
    service = svc;
    try {
      run(svc, site);
    } finally {
      svc.stop();
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    String table = table();
    System.out.println(table);
    Path out = Path.of(opt.out());
    Files.createDirectories(out.getParent());
    Files.writeString(out, table);
    log("written to %s", out);
    System.exit(0);
  }

  static void run(Service svc, String site) throws Exception {
    HttpClient api = client(svc.port);
    // 5. Start-up (measured while restarting, above) and the jar's size.
    rows.add(new Row("5 start-up", "java -jar to /ready", svc.startupMs, "ms", "target", 2000, "≤ 2000 ms",
        "a restart; the run's first start, which created the schema: " + svc.firstStartMs + " ms; jar "
            + Files.size(Path.of(opt.jar())) / (1024 * 1024) + " MB"));

    AtomicLong seq = new AtomicLong();
    double missRate = opt.only().contains("1") ? missScenario(svc, api, site, seq) : Double.NaN;
    if (opt.only().contains("2")) {
      hitScenario(api, site);
    }
    if (opt.only().contains("3") || opt.only().contains("4")) {
      crawlScenarios(svc, site, missRate);
    }
  }

  /**
   * 1. Fetch + store, cache miss: every URL and every body distinct (the site echoes the query into the page).
   * Each load also reports where the CPU went, per request: that is what explains a ratio on a machine where the
   * service, PostgreSQL and the bench share two cores.
   */
  static double missScenario(Service svc, HttpClient api, String site, AtomicLong seq) throws Exception {
    Load upstream = Load.run(client(Site.port), opt.connections(), opt.seconds(),
        i -> Req.get("/p/" + (i % opt.pages()) + "?u=up-" + seq.incrementAndGet()));
    StoreCeiling plain = StoreCeiling.run(opt.pgUrl(), false);
    StoreCeiling indexed = StoreCeiling.run(opt.pgUrl(), true);
    Load miss = Load.run(api, opt.connections(), opt.seconds(), i -> Req.post("/v1/fetch",
        new JsonObject().put("url", site + "/p/" + (i % opt.pages()) + "?u=miss-" + seq.incrementAndGet())));
    String cpu = miss.cpu;
    double missRate = miss.okRate(201);
    rows.add(new Row("1 fetch+store miss", "POST /v1/fetch, distinct URLs and bodies", missRate, "req/s",
        "store ceiling (same pool, same rows, no search index)", plain.rate, "≥ 60%", miss.latency() + "; " + cpu));
    rows.add(new Row("1 fetch+store miss", "(the same)", missRate, "req/s",
        "store ceiling with the search index (the pages table's tsvector and GIN)", indexed.rate, "–", ""));
    rows.add(new Row("1 fetch+store miss", "(the same)", missRate, "req/s", "upstream alone", upstream.okRate(200), "–",
        "upstream " + upstream.latency()));
    rows.add(new Row("1 store ceiling", "rows/s, no search index", plain.rate, "rows/s", "–", Double.NaN, "–", plain.cpu));
    rows.add(new Row("1 store ceiling", "rows/s, with the search index", indexed.rate, "rows/s", "–", Double.NaN, "–",
        indexed.cpu));
    return missRate;
  }

  /**
   * 2. Cache hit over a small hot set, and GET /v1/pages/{id}; ceiling: a trivial route with a constant JSON of the
   * same size, served by a Vert.x server in this process.
   */
  static void hitScenario(HttpClient api, String site) throws Exception {
    List<Long> ids = new ArrayList<>();
    for (int h = 0; h < 10; h++) {
      String hot = site + "/p/" + h + "?hot";
      JsonObject page = await(api.request(new RequestOptions().setMethod(HttpMethod.POST).setURI("/v1/fetch")
              .putHeader("Content-Type", "application/json"))
          .compose(r -> r.send(new JsonObject().put("url", hot).encode()))
          .compose(r -> r.body()).map(Buffer::toJsonObject));
      ids.add(page.getLong("id"));
    }
    int hitBytes = await(api.request(HttpMethod.POST, "/v1/fetch")
        .compose(r -> r.putHeader("Content-Type", "application/json")
            .send(new JsonObject().put("url", site + "/p/0?hot").put("maxAgeSeconds", 3600).encode()))
        .compose(r -> r.body())).length();
    int ceilingPort = await(Constant.start(hitBytes));
    Load constant = Load.run(client(ceilingPort), opt.connections(), opt.seconds(), i -> Req.get("/constant"));
    Load hit = Load.run(api, opt.connections(), opt.seconds(), i -> Req.post("/v1/fetch",
        new JsonObject().put("url", site + "/p/" + (i % 10) + "?hot").put("maxAgeSeconds", 3600)));
    Load read = Load.run(api, opt.connections(), opt.seconds(), i -> Req.get("/v1/pages/" + ids.get(i % ids.size())));
    rows.add(new Row("2 cache hit", "POST /v1/fetch with maxAgeSeconds, 10 hot URLs", hit.okRate(200), "req/s",
        "constant JSON route, same size", constant.okRate(200), "≥ 60%, p99 < 10 ms", hit.latency() + "; " + hit.cpu));
    rows.add(new Row("2 cache hit", "GET /v1/pages/{id}", read.okRate(200), "req/s",
        "constant JSON route, same size", constant.okRate(200), "≥ 60%, p99 < 10 ms", read.latency() + "; " + read.cpu));
    rows.add(new Row("2 ceiling", "constant JSON route", constant.okRate(200), "req/s", "–", Double.NaN, "–",
        constant.latency() + "; " + constant.cpu));
  }

  static void crawlScenarios(Service svc, String site, double missRate) throws Exception {
    // 3. Crawl of the site (robots obeyed, metadata + text), submit to completed. Ceiling: scenario 1's miss rate.
    Crawl crawl = Crawl.run(site, opt.pages(), svc);
    rows.add(new Row("3 crawl", "crawl of " + opt.pages() + " pages, submit to completed", crawl.pagesPerSecond,
        "pages/s", "scenario 1 miss rate", missRate, "≥ 60%",
        crawl.completed + " pages, peak heap " + crawl.peakHeapMb + " MB, peak RSS " + svc.peakRssMb() + " MB; " + crawl.cpu));

    // 4. Scale: the same crawl at scalePages; pages/s relative to scenario 3, heap and RSS.
    if (opt.scalePages() > 0) {
      Crawl big = Crawl.run(site, opt.scalePages(), svc);
      rows.add(new Row("4 scale", "crawl of " + opt.scalePages() + " pages", big.pagesPerSecond, "pages/s",
          "scenario 3", crawl.pagesPerSecond, "≥ 80%; heap ≤ 256 MB; RSS ≤ 512 MB",
          big.completed + " pages, peak heap " + big.peakHeapMb + " MB, peak RSS " + svc.peakRssMb() + " MB; " + big.cpu));
    }
  }

  static String table() {
    StringBuilder t = new StringBuilder();
    t.append("Fetchbus benchmark, ").append(LocalDate.now()).append(": ").append(Runtime.getRuntime().availableProcessors())
        .append(" cores, ").append(memoryGb()).append(" GB, JDK ").append(System.getProperty("java.version"))
        .append(", ").append(opt.connections()).append(" connections, ").append(opt.seconds()).append(" s per load\n\n");
    t.append("| scenario | figure | value | ceiling | ratio | target | notes |\n|---|---|---|---|---|---|---|\n");
    for (Row r : rows) {
      String ceiling = Double.isNaN(r.ceiling()) ? "–" : String.format("%s: %.0f", r.ceilingName(), r.ceiling());
      t.append(String.format("| %s | %s | %s %s | %s | %s | %s | %s |%n", r.scenario(), r.figure(),
          Double.isNaN(r.value()) ? "–" : String.format("%.0f", r.value()), r.unit(), ceiling,
          Double.isNaN(r.ratio()) ? "–" : String.format("%.0f%%", 100 * r.ratio()), r.target(), r.extra()));
    }
    return t.toString();
  }

  static long memoryGb() {
    try {
      return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal"))
          .map(l -> Long.parseLong(l.replaceAll("\\D", "")) / (1024 * 1024)).findFirst().orElse(0L);
    } catch (Exception e) {
      return 0;
    }
  }

  static HttpClient client(int port) {
    return vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port)
        .setKeepAlive(true), new PoolOptions().setHttp1MaxSize(512));
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.MINUTES);
  }

  static void log(String format, Object... args) {
    System.err.printf("[bench] " + format + "%n", args);
  }

  /** A request of the load driver. */
  record Req(HttpMethod method, String uri, Buffer body) {
    static Req get(String uri) {
      return new Req(HttpMethod.GET, uri, null);
    }

    static Req post(String uri, JsonObject json) {
      return new Req(HttpMethod.POST, uri, json.toBuffer());
    }
  }

  /**
   * The load driver: a fixed number of connections, each sending its next request when the last answered, for a
   * fixed time. Records every latency and status.
   */
  static final class Load {
    final long[] latenciesMicros;
    final int count;
    final long elapsedMs;
    final java.util.Map<Integer, Integer> statuses;
    /** Where the CPU went during the measured part, per request (see {@link Cpu}). */
    String cpu = "";

    Load(long[] latencies, int count, long elapsedMs, java.util.Map<Integer, Integer> statuses) {
      this.latenciesMicros = latencies;
      this.count = count;
      this.elapsedMs = elapsedMs;
      this.statuses = statuses;
    }

    /** The load, after the same load for {@code --warmup} seconds unmeasured (JIT, pools, caches). */
    static Load run(HttpClient client, int connections, int seconds, IntFunction<Req> next) throws Exception {
      if (opt.warmup() > 0) {
        measure(client, connections, opt.warmup(), next);
      }
      Cpu before = Cpu.now(service);
      Load load = measure(client, connections, seconds, next);
      load.cpu = Cpu.now(service).perRequestSince(before, load.count);
      log("load: %d requests in %d ms, statuses %s, %s; %s", load.count, load.elapsedMs, load.statuses, load.latency(),
          load.cpu);
      return load;
    }

    private static Load measure(HttpClient client, int connections, int seconds, IntFunction<Req> next) throws Exception {
      long[] lat = new long[4_000_000];
      AtomicLong n = new AtomicLong();
      java.util.Map<Integer, Integer> statuses = new java.util.concurrent.ConcurrentHashMap<>();
      long start = System.nanoTime();
      long end = start + TimeUnit.SECONDS.toNanos(seconds);
      List<Future<Void>> loops = new ArrayList<>();
      for (int c = 0; c < connections; c++) {
        Promise<Void> done = Promise.promise();
        loops.add(done.future());
        vertx.runOnContext(v -> loop(client, next, lat, n, statuses, end, done));
      }
      await(Future.join(loops));
      long elapsed = (System.nanoTime() - start) / 1_000_000;
      int count = (int) Math.min(n.get(), lat.length);
      return new Load(Arrays.copyOf(lat, count), count, elapsed, statuses);
    }

    private static void loop(HttpClient client, IntFunction<Req> next, long[] lat, AtomicLong n,
                             java.util.Map<Integer, Integer> statuses, long end, Promise<Void> done) {
      if (System.nanoTime() >= end) {
        done.tryComplete();
        return;
      }
      Req req = next.apply((int) (n.get() & 0x7fffffff));
      long t0 = System.nanoTime();
      RequestOptions ro = new RequestOptions().setMethod(req.method()).setURI(req.uri());
      if (req.body() != null) {
        ro.putHeader("Content-Type", "application/json");
      }
      client.request(ro)
          .compose(r -> req.body() == null ? r.send() : r.send(req.body()))
          .compose(resp -> resp.body().map(b -> resp.statusCode()))
          .onComplete(ar -> {
            long i = n.getAndIncrement();
            if (i < lat.length) {
              lat[(int) i] = (System.nanoTime() - t0) / 1000;
            }
            statuses.merge(ar.succeeded() ? ar.result() : -1, 1, Integer::sum);
            loop(client, next, lat, n, statuses, end, done);
          });
    }

    double okRate(int status) {
      return statuses.getOrDefault(status, 0) * 1000.0 / elapsedMs;
    }

    String latency() {
      long[] sorted = latenciesMicros.clone();
      Arrays.sort(sorted);
      return String.format("p50 %.1f ms, p99 %.1f ms", pct(sorted, 0.50) / 1000.0, pct(sorted, 0.99) / 1000.0);
    }

    static long pct(long[] sorted, double p) {
      return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) (p * sorted.length))];
    }
  }

  /**
   * The generated site: page i (8–20 KB, deterministic) has a title, paragraphs and 10–20 links to other pages;
   * the query string is echoed into the page, so distinct URLs have distinct bodies. robots.txt disallows
   * /private/ and names the sitemap.
   */
  static final class Site {
    static int port;
    static int pages;
    static final String[] WORDS = ("fetch crawl store page link index sitemap robots queue lease frontier vertx event "
        + "loop worker bus cache postgres query search text title body host path token limit depth batch job").split(" ");

    static Future<Integer> start(int n) {
      pages = n;
      HttpServer server = vertx.createHttpServer();
      server.requestHandler(req -> {
        String path = req.path();
        if (path.equals("/robots.txt")) {
          req.response().putHeader("Content-Type", "text/plain")
              .end("User-agent: *\nDisallow: /private/\nSitemap: http://127.0.0.1:" + port + "/sitemap.xml\n");
        } else if (path.equals("/sitemap.xml")) {
          req.response().setStatusCode(404).end();
        } else if (path.startsWith("/p/")) {
          int i;
          try {
            i = Integer.parseInt(path.substring(3));
          } catch (NumberFormatException e) {
            req.response().setStatusCode(404).end();
            return;
          }
          if (i < 0 || i >= pages) {
            req.response().setStatusCode(404).end();
            return;
          }
          req.response().putHeader("Content-Type", "text/html; charset=utf-8").end(page(i, req.query()));
        } else {
          req.response().setStatusCode(404).end();
        }
      });
      return server.listen(0, "127.0.0.1").map(s -> port = s.actualPort());
    }

    static String page(int i, String query) {
      Random r = new Random(i);
      int target = 8192 + r.nextInt(12 * 1024);
      StringBuilder html = new StringBuilder(target + 512).append("<!doctype html><html><head><title>Page ").append(i)
          .append(" of the bench site</title></head><body><h1>Page ").append(i).append("</h1><p>")
          .append(query == null ? "" : query.replace('<', ' ')).append("</p><ul>");
      int links = 10 + r.nextInt(11);
      for (int l = 0; l < links; l++) {
        // A tree (so everything is reachable) plus random links.
        int to = l < 2 && 2 * i + 1 + l < pages ? 2 * i + 1 + l : r.nextInt(pages);
        html.append("<li><a href=\"/p/").append(to).append("\">page ").append(to).append("</a></li>");
      }
      html.append("</ul>");
      while (html.length() < target) {
        html.append("<p>");
        for (int w = 0; w < 60; w++) {
          html.append(WORDS[r.nextInt(WORDS.length)]).append(' ');
        }
        html.append("</p>");
      }
      return html.append("</body></html>").toString();
    }
  }

  /** The cache-hit ceiling: a trivial Vert.x route answering a constant JSON of a given size. */
  static final class Constant {
    static Future<Integer> start(int bytes) {
      JsonObject json = new JsonObject().put("pad", "x".repeat(Math.max(0, bytes - 12)));
      Buffer body = json.toBuffer();
      return vertx.createHttpServer().requestHandler(req -> req.response()
              .putHeader("Content-Type", "application/json").end(body))
          .listen(0, "127.0.0.1").map(HttpServer::actualPort);
    }
  }

  /**
   * The store ceiling: the service's pool size, inserting rows as big as a stored page (body plus extracted
   * text) into a table of their own, as fast as they go.
   */
  /**
   * The store's ceiling: the same pool size as the service's, inserting as fast as it can rows like the pages the
   * service stores (a body from the site, distinct per row, and its text), once without and once with the pages
   * table's search column (the same generated tsvector and GIN index as migration V6).
   */
  static final class StoreCeiling {
    final double rate;
    final String cpu;

    StoreCeiling(double rate, String cpu) {
      this.rate = rate;
      this.cpu = cpu;
    }

    static StoreCeiling run(String pgUrl, boolean searchIndex) throws Exception {
      Pool pool = PgBuilder.pool().with(new io.vertx.sqlclient.PoolOptions().setMaxSize(8))
          .connectingTo(PgConnectOptions.fromUri(pgUrl)).using(vertx).build();
      await(pool.query("DROP TABLE IF EXISTS bench_ceiling").execute());
      await(pool.query("CREATE TABLE bench_ceiling (id bigserial PRIMARY KEY, sha text UNIQUE, body bytea, text text"
          + (searchIndex ? ", search tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, left(COALESCE(text, ''), 100000))) STORED" : "")
          + ")").execute());
      if (searchIndex) {
        await(pool.query("CREATE INDEX ON bench_ceiling USING gin (search)").execute());
      }
      AtomicLong n = new AtomicLong();
      insertFor(pool, n, opt.warmup()); // unmeasured, as every load
      long warm = n.get();
      long start = System.nanoTime();
      Cpu before = Cpu.now(null);
      insertFor(pool, n, opt.seconds());
      n.addAndGet(-warm);
      double rate = n.get() * 1e9 / (System.nanoTime() - start);
      String cpu = Cpu.now(null).perRequestSince(before, n.get());
      await(pool.query("DROP TABLE bench_ceiling").execute());
      await(pool.close());
      log("store ceiling%s: %d rows, %.0f rows/s; %s", searchIndex ? " with the search index" : "", n.get(), rate, cpu);
      return new StoreCeiling(rate, cpu);
    }

    private static void insertFor(Pool pool, AtomicLong n, int seconds) throws Exception {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      List<Future<Void>> loops = new ArrayList<>();
      for (int c = 0; c < opt.connections(); c++) {
        Promise<Void> done = Promise.promise();
        loops.add(done.future());
        insertLoop(pool, n, end, done);
      }
      await(Future.join(loops));
    }

    private static void insertLoop(Pool pool, AtomicLong n, long end, Promise<Void> done) {
      if (System.nanoTime() >= end) {
        done.tryComplete();
        return;
      }
      long id = n.incrementAndGet();
      String html = Site.page((int) (id % Math.min(opt.pages(), 1000)), "ceiling-" + id);
      String text = html.replaceAll("<[^>]*>", " ");
      pool.preparedQuery("INSERT INTO bench_ceiling (sha, body, text) VALUES ($1, $2, $3)")
          .execute(Tuple.of("sha-" + id, Buffer.buffer(html), text))
          .onComplete(ar -> insertLoop(pool, n, end, done));
    }
  }

  /**
   * CPU time used so far by the service, by every PostgreSQL process, by this bench process (site, load driver,
   * ceilings), and by the whole machine, from /proc (clock ticks of 10 ms).
   */
  record Cpu(long serviceTicks, long postgresTicks, long benchTicks, long machineBusyTicks, long machineTicks,
             Map<String, Long> serviceThreads) {
    /** The service's threads by what they do, from their names (/proc/PID/task/TID/comm, 15 characters at most). */
    static final List<Map.Entry<String, String>> THREAD_KINDS = List.of(Map.entry("vert.x-eventloo", "event loops"),
        Map.entry("vert.x-worker", "workers"), Map.entry("Compiler", "JIT"), Map.entry("GC ", "GC"),
        Map.entry("G1 ", "GC"));

    static Cpu now(Service svc) {
      long pg = 0;
      try (var dirs = Files.list(Path.of("/proc"))) {
        for (Path dir : dirs.filter(d -> d.getFileName().toString().matches("\\d+")).toList()) {
          String stat = stat(dir.resolve("stat"));
          if (stat.contains("(postgres)")) {
            pg += ticks(stat);
          }
        }
      } catch (Exception ignored) {
        // a process ended while listed
      }
      long busy = 0, all = 0;
      try {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        for (int i = 1; i < f.length; i++) {
          all += Long.parseLong(f[i]);
        }
        busy = all - Long.parseLong(f[4]) - Long.parseLong(f[5]); // minus idle and iowait
      } catch (Exception ignored) {
        // no /proc/stat: not Linux
      }
      long service = svc == null ? 0 : ticks(stat(Path.of("/proc/" + svc.process.pid() + "/stat")));
      return new Cpu(service, pg, ticks(stat(Path.of("/proc/self/stat"))), busy, all,
          svc == null ? Map.of() : threads(svc.process.pid()));
    }

    /** CPU ticks of the service's live threads, by kind (a thread that ended meanwhile is missing from both sides). */
    private static Map<String, Long> threads(long pid) {
      Map<String, Long> kinds = new TreeMap<>();
      try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
        for (Path task : tasks.toList()) {
          String stat = stat(task.resolve("stat"));
          int open = stat.indexOf('('), close = stat.lastIndexOf(')');
          if (open < 0 || close < open) {
            continue;
          }
          String name = stat.substring(open + 1, close);
          String kind = THREAD_KINDS.stream().filter(k -> name.startsWith(k.getKey()) || name.contains(k.getKey()))
              .map(Map.Entry::getValue).findFirst().orElse("other");
          kinds.merge(kind, ticks(stat), Long::sum);
        }
      } catch (Exception ignored) {
        // the service ended while listed
      }
      return kinds;
    }

    private static String stat(Path file) {
      try {
        return Files.readString(file);
      } catch (Exception e) {
        return "";
      }
    }

    /** utime + stime: fields 14 and 15, counted after the parenthesised command name. */
    private static long ticks(String stat) {
      int close = stat.lastIndexOf(')');
      if (close < 0) {
        return 0;
      }
      String[] f = stat.substring(close + 2).split(" ");
      return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    /** "CPU per request: ..." in ms, from {@code before} to this snapshot, over {@code requests}. */
    String perRequestSince(Cpu before, long requests) {
      double per = 10.0 / Math.max(1, requests);
      double idle = 100.0 * (1 - (double) (machineBusyTicks - before.machineBusyTicks)
          / Math.max(1, machineTicks - before.machineTicks));
      StringBuilder threads = new StringBuilder();
      for (var kind : serviceThreads.entrySet()) {
        long spent = kind.getValue() - before.serviceThreads.getOrDefault(kind.getKey(), 0L);
        threads.append(threads.isEmpty() ? " (" : ", ").append(String.format("%s %.3f", kind.getKey(), spent * per));
      }
      return String.format("CPU per request: service %.3f ms%s, PostgreSQL %.3f ms, bench %.3f ms; machine idle %.0f%%",
          (serviceTicks - before.serviceTicks) * per, threads.isEmpty() ? "" : threads + ")",
          (postgresTicks - before.postgresTicks) * per, (benchTicks - before.benchTicks) * per, idle);
    }
  }

  /** A crawl through the REST API, timed from submit to completed, sampling the service's heap meanwhile. */
  static final class Crawl {
    double pagesPerSecond;
    int completed;
    long peakHeapMb;
    String cpu = "";

    static Crawl run(String site, int pages, Service svc) throws Exception {
      // A client of its own: the loads before it leave the shared one's pool busy or worse (a poll once hung).
      HttpClient api = client(svc.port);
      try {
        return run(api, site, pages, svc);
      } finally {
        api.close();
      }
    }

    private static Crawl run(HttpClient api, String site, int pages, Service svc) throws Exception {
      Crawl c = new Crawl();
      JsonObject spec = new JsonObject().put("url", site + "/p/0").put("maxDepth", 100).put("limit", pages)
          .put("sitemap", "skip").put("formats", new io.vertx.core.json.JsonArray().add("metadata").add("text"));
      long start = System.nanoTime();
      Cpu before = Cpu.now(svc);
      JsonObject job = await(api.request(HttpMethod.POST, "/v1/crawls")
          .compose(r -> r.putHeader("Content-Type", "application/json").send(spec.encode()))
          .compose(r -> r.body()).map(Buffer::toJsonObject));
      String status = job.getString("statusUrl");
      while (true) {
        Thread.sleep(250); // the bench's own main thread polls; no event loop is involved
        JsonObject s;
        try {
          // Bounded: a poll that gets no answer is asked again rather than waited for (one run hung here).
          s = api.request(new RequestOptions().setMethod(HttpMethod.GET).setURI(status).setTimeout(5_000))
              .compose(r -> r.send()).compose(r -> r.body()).map(Buffer::toJsonObject)
              .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
          log("crawl status not answered (%s); asking again", e);
          continue;
        }
        c.peakHeapMb = Math.max(c.peakHeapMb, svc.heapMb(api)); // -1 when not answered: the next poll asks again
        svc.sampleRss();
        if (List.of("completed", "cancelled", "failed").contains(s.getString("status"))) {
          c.completed = s.getInteger("completed");
          break;
        }
      }
      c.pagesPerSecond = c.completed * 1e9 / (System.nanoTime() - start);
      c.cpu = Cpu.now(svc).perRequestSince(before, c.completed).replace("per request", "per page");
      log("crawl: %d pages, %.0f pages/s, peak heap %d MB; %s", c.completed, c.pagesPerSecond, c.peakHeapMb, c.cpu);
      return c;
    }
  }

  /** The fat jar as a child process, tuned only where the bench's single local host needs it. */
  static final class Service {
    Process process;
    int port;
    long startupMs;
    /** The first start of the run, which also created the schema. */
    long firstStartMs;
    long peakRssKb;

    static Service start(Options opt, String site) throws Exception {
      Service s = new Service();
      // The heap target (≤ 256 MB) is the service's -Xmx: if it did not fit, it would show as an OutOfMemoryError
      // or a collapse of the rate, not as a number to argue about. FETCHBUS_BENCH_JVM_ARGS adds flags (JFR, say).
      List<String> cmd = new ArrayList<>(List.of("java", "-Xmx256m"));
      String extra = System.getenv().getOrDefault("FETCHBUS_BENCH_JVM_ARGS", "");
      if (!extra.isBlank()) {
        cmd.addAll(List.of(extra.trim().split("\\s+")));
      }
      cmd.addAll(List.of("-jar", opt.jar()));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().put("FETCHBUS_PG_URL", opt.pgUrl());
      pb.environment().put("FETCHBUS_HTTP_PORT", "0");
      // The site lives on 127.0.0.1, which the destination guard refuses by default.
      pb.environment().put("FETCHBUS_FETCH_GUARD_ALLOW_PRIVATE_NETWORKS", "true");
      // One local host serves the whole site: the per-host politeness that protects real sites would measure
      // nothing but itself here.
      pb.environment().put("FETCHBUS_FETCH_PER_HOST_CONCURRENCY", "64");
      pb.environment().put("FETCHBUS_FETCH_PER_HOST_QUEUE", "4096");
      pb.environment().put("FETCHBUS_CRAWL_PER_HOST_IN_FLIGHT", "64");
      pb.environment().put("FETCHBUS_LIMITS_RATE_PER_SECOND", "1000000");
      pb.environment().put("FETCHBUS_LIMITS_BURST", "1000000");
      // The caller's FETCHBUS_* settings win over the bench's (the child inherits the environment); the bench's own
      // variables are not the service's business.
      System.getenv().forEach((k, v) -> { if (k.startsWith("FETCHBUS_") && !k.startsWith("FETCHBUS_BENCH")) pb.environment().put(k, v); });
      pb.environment().keySet().removeIf(k -> k.startsWith("FETCHBUS_BENCH"));
      long t0 = System.nanoTime();
      s.process = pb.start();
      BufferedReader out = new BufferedReader(new InputStreamReader(s.process.getInputStream(), StandardCharsets.UTF_8));
      CompletableFuture<Integer> port = new CompletableFuture<>();
      Thread reader = new Thread(() -> {
        try {
          String line;
          // The service logs every request: each line costs the bench CPU, so keep it to a substring check.
          var listening = java.util.regex.Pattern.compile("listening on http://[^:]+:(\\d+)");
          while ((line = out.readLine()) != null) {
            if (!port.isDone() && line.contains("listening on")) {
              var m = listening.matcher(line);
              if (m.find()) {
                port.complete(Integer.parseInt(m.group(1)));
              }
            }
            if (line.contains("ERROR") || line.contains("WARN")) {
              System.err.println("[service] " + line);
            }
          }
        } catch (Exception ignored) {
          // the process ended
        }
        port.completeExceptionally(new IllegalStateException("the service exited before listening"));
      }, "service-output");
      reader.setDaemon(true);
      reader.start();
      s.port = port.get(60, TimeUnit.SECONDS);
      HttpClient probe = client(s.port);
      while (true) {
        Integer status = await(probe.request(HttpMethod.GET, "/ready").compose(r -> r.send()).map(r -> r.statusCode())
            .otherwise(-1));
        if (status == 200) {
          break;
        }
        Thread.sleep(20);
      }
      s.startupMs = (System.nanoTime() - t0) / 1_000_000;
      log("service ready on port %d in %d ms", s.port, s.startupMs);
      return s;
    }

    long heapMb(HttpClient api) {
      try {
        // Bounded like the status poll: one run waited here for ten minutes on a request the pool never sent.
        String metrics = api.request(new RequestOptions().setMethod(HttpMethod.GET).setURI("/metrics").setTimeout(5_000))
            .compose(r -> r.send()).compose(r -> r.body())
            .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).toString();
        double bytes = 0;
        for (String line : metrics.split("\n")) {
          if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
            bytes += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
          }
        }
        return (long) (bytes / (1024 * 1024));
      } catch (Exception e) {
        return -1;
      }
    }

    void sampleRss() {
      try {
        for (String l : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
          if (l.startsWith("VmHWM:")) {
            peakRssKb = Math.max(peakRssKb, Long.parseLong(l.replaceAll("\\D", "")));
          }
        }
      } catch (Exception ignored) {
        // the process ended
      }
    }

    long peakRssMb() {
      sampleRss();
      return peakRssKb / 1024;
    }

    void stop() throws Exception {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
