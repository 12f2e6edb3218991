package io.fetchbus.ops;

import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FailureReplies;
import io.fetchbus.bus.FetchResult;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import java.util.concurrent.atomic.AtomicLong;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.shareddata.Shareable;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Fetchbus's own meters ({@code fetchbus_*} in Prometheus), one set per Vert.x instance, shared by its verticles.
 * Every label takes values from a small fixed set (failure slugs, status classes, reasons): never a URL or host.
 * Recording is lock-free, so it is safe on event loops.
 */
public final class Meters implements Shareable {
  /** The reasons the destination guard refuses a URL: the {@code reason} label of {@code fetchbus_guard_denials_total}. */
  public static final String GUARD_PORT = "port";
  public static final String GUARD_IP_SPELLING = "ip-spelling";
  public static final String GUARD_ADDRESS = "address";
  public static final String GUARD_SELF = "self";
  /** The reasons robots.txt blocks a URL: its rules disallow it, or it could not be read (everything disallowed). */
  public static final String ROBOTS_DISALLOWED = "disallowed";
  public static final String ROBOTS_UNREACHABLE = "unreachable";

  private final MeterRegistry registry;
  private final ConcurrentMap<String, Counter> counters = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, AtomicLong> crawlGauges = new ConcurrentHashMap<>();
  private final Counter fetchedBytes;
  private final Timer fetchedOk;
  private final Timer fetchFailed;
  private final Counter pagesStored;
  private final Counter failedPagesStored;
  private final AtomicLong searchLagPages = new AtomicLong();
  private final AtomicLong searchLagMillis = new AtomicLong();
  private final AtomicLong outsideNodes = new AtomicLong();
  private final Counter pagesIndexed;
  private final Counter groupCommits;
  private final Counter groupCommittedSaves;
  private final Counter crawlGroupCommits;
  private final Counter crawlGroupCommitted;
  /** Requests answered from the API's hot page records, counted as cache hits; set by the API, if this node has it. */
  private volatile LongSupplier recordHits = () -> 0;

  private Meters(MeterRegistry registry) {
    this.registry = registry;
    fetchedBytes = Counter.builder("fetchbus.fetched.bytes").baseUnit("bytes")
        .description("Body bytes received from upstreams (after decompression), cache hits not included")
        .register(registry);
    fetchedOk = fetchTimer("ok");
    fetchFailed = fetchTimer("failure");
    pagesStored = pagesStored("ok");
    failedPagesStored = pagesStored("failure");
    groupCommits = Counter.builder("fetchbus.store.group.commits")
        .description("Batches of page saves written as one transaction (group commit), two saves or more each")
        .register(registry);
    groupCommittedSaves = Counter.builder("fetchbus.store.group.committed.saves")
        .description("Page saves written in a batch with others").register(registry);
    crawlGroupCommits = Counter.builder("fetchbus.store.crawl.group.commits")
        .description("Batches of crawl completions of one job written as one transaction, two completions or more each")
        .register(registry);
    crawlGroupCommitted = Counter.builder("fetchbus.store.crawl.group.committed.completions")
        .description("Crawl completions written in a batch with others").register(registry);
    pagesIndexed = Counter.builder("fetchbus.search.indexed.pages")
        .description("Pages made searchable by the background search indexer").register(registry);
    Gauge.builder("fetchbus.cluster.outside.nodes", outsideNodes, AtomicLong::get)
        .description("Nodes using this node's database that are not members of its cluster: a split, or a node cut off")
        .register(registry);
    Gauge.builder("fetchbus.search.lag.pages", searchLagPages, AtomicLong::get)
        .description("Pages stored and not searchable yet, measured every second (counted up to 100,000)")
        .register(registry);
    Gauge.builder("fetchbus.search.lag.seconds", searchLagMillis, m -> m.get() / 1000.0)
        .description("Age of the oldest page not searchable yet (since its fetch), measured every second")
        .register(registry);
  }

  /** The meters of {@code vertx}, created by the first verticle that asks. */
  public static Meters of(Vertx vertx) {
    return vertx.sharedData().<String, Meters>getLocalMap("fetchbus.ops")
        .computeIfAbsent("meters", k -> new Meters(MetricsSetup.registry(vertx)));
  }

  private Counter pagesStored(String result) {
    return Counter.builder("fetchbus.pages.stored")
        .description("Pages stored (new rows, not repeated saves): fetched (ok), or a failed attempt with its error")
        .tag("result", result)
        .register(registry);
  }

  private Timer fetchTimer(String result) {
    return Timer.builder("fetchbus.fetch.duration")
        .description("Upstream fetches from start to result: slot wait, robots.txt, redirects and retries included")
        .tag("result", result)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(60))
        .register(registry);
  }

  /**
   * Runs one upstream fetch (not a cache hit) and records its outcome, status class, body bytes and duration.
   */
  public Future<FetchResult> fetch(Supplier<Future<FetchResult>> fetch) {
    long start = System.nanoTime();
    return fetch.get()
        .onSuccess(result -> {
          fetchedOk.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
          fetches("ok", statusClass(result.status())).increment();
          fetchedBytes.increment(result.bytes());
        })
        .onFailure(err -> {
          fetchFailed.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
          fetches(slug(err), "none").increment();
        });
  }

  public void guardDenied(String reason) {
    counter("fetchbus.guard.denials", "URLs the destination guard refused (every redirect hop is checked)",
        "reason", reason).increment();
  }

  /** One URL of a watch run checked: what it found ({@code new, same, changed, removed}) or {@code error}. */
  public void watchChecked(String result) {
    counter("fetchbus.watch.checks", "URLs that watch runs checked, by what they found", "result", result).increment();
  }

  public void robotsBlocked(String reason) {
    counter("fetchbus.robots.blocks", "URLs not fetched because of robots.txt", "reason", reason).increment();
  }

  /** A new page row: a fetched page, or a failed attempt ({@code failed}) recorded with its error. */
  public void pageStored(boolean failed) {
    (failed ? failedPagesStored : pagesStored).increment();
  }

  /** {@code saves} page saves went to PostgreSQL as one batch. */
  public void groupCommit(int saves) {
    groupCommits.increment();
    groupCommittedSaves.increment(saves);
  }

  /** A batch of {@code completions} crawl completions of one job written as one transaction. */
  public void crawlGroupCommit(int completions) {
    crawlGroupCommits.increment();
    crawlGroupCommitted.increment(completions);
  }

  /**
   * {@code pages} pages deleted, for {@code reason}: {@code request} (DELETE /v1/pages/{id}), {@code job} (a job's
   * pages, with its cancellation) or {@code retention}.
   */
  public void pagesDeleted(String reason, int pages) {
    counter("fetchbus.pages.deleted", "Pages deleted, with the bodies no other page used", "reason", reason)
        .increment(pages);
  }

  /** The search indexer made {@code pages} pages searchable. */
  public void pagesIndexed(int pages) {
    pagesIndexed.increment(pages);
  }

  /** The search index's lag, measured by the indexer every second. */
  /** Sets {@code fetchbus.cluster.outside.nodes}. */
  /**
   * Clustered: the members whose circuit is open now ({@code fetchbus_cluster_open_circuits}), and the requests sent
   * to a second member after the first did not answer or had no handler ({@code fetchbus_cluster_rerouted_requests_total}).
   */
  public void memberRouting(IntSupplier openCircuits, LongSupplier rerouted) {
    Gauge.builder("fetchbus.cluster.open.circuits", openCircuits, IntSupplier::getAsInt)
        .description("Cluster members this node sends nothing to now: they did not answer a request in time").register(registry);
    FunctionCounter.builder("fetchbus.cluster.rerouted.requests", rerouted, LongSupplier::getAsLong)
        .description("Requests sent to another member after the first did not answer in time or had no handler")
        .register(registry);
  }

  /** Clustered fetch node: the origin buckets whose lease it holds ({@code fetchbus_origin_leases_held}). */
  public void originLeases(IntSupplier held) {
    Gauge.builder("fetchbus.origin.leases.held", held, IntSupplier::getAsInt)
        .description("Origin buckets whose lease this fetch node holds: it fetches their origins, and no other node does")
        .register(registry);
  }

  /** A lease this fetch node held ran out, or was taken, before it was renewed: its requests in flight were closed. */
  public void originLeaseLost() {
    counter("fetchbus.origin.leases.lost", "Origin leases that ran out before this node renewed them (PostgreSQL or "
        + "the store did not answer in time, or the node was paused): the requests in flight under them were closed")
        .increment();
  }

  /** {@code n} fetches refused (503) because another fetch node holds their origin's lease. */
  public void originLeaseRefusals(int n) {
    counter("fetchbus.origin.lease.refusals", "Fetches refused with 503 because another fetch node holds the lease "
        + "of their origin: the other half of a split, or a node that keeps it longer than this one waited")
        .increment(n);
  }

  public void outsideNodes(int n) {
    outsideNodes.set(n);
  }

  public void searchLag(long pages, double seconds) {
    searchLagPages.set(pages);
    searchLagMillis.set(Math.round(seconds * 1000));
  }

  /** The hits of the API's hot page records: they count as cache hits (a fresh enough copy, from memory). */
  public void recordHits(LongSupplier hits) {
    recordHits = hits;
  }

  /** What the fetch cache reports, read when metrics are scraped. */
  public interface CacheStats {
    long hits();

    long misses();

    long joins();

    long entries();

    long bytes();
  }

  /** Publishes the fetch cache's counters and size; the cache must live as long as the Vert.x instance. */
  public void cache(CacheStats cache) {
    String gets = "fetchbus.cache.gets";
    String desc = "Fetch cache lookups: hit (a fresh enough copy), miss (fetched), join (joined a fetch in flight)";
    FunctionCounter.builder(gets, cache, c -> c.hits() + recordHits.getAsLong()).description(desc).tag("result", "hit")
        .register(registry);
    FunctionCounter.builder(gets, cache, c -> c.misses()).description(desc).tag("result", "miss").register(registry);
    FunctionCounter.builder(gets, cache, c -> c.joins()).description(desc).tag("result", "join").register(registry);
    Gauge.builder("fetchbus.cache.entries", cache, c -> c.entries()).description("Fetch results in the cache")
        .register(registry);
    Gauge.builder("fetchbus.cache.size", cache, c -> c.bytes()).baseUnit("bytes")
        .description("The cache's weight: body bytes plus per-entry overhead").register(registry);
  }

  /**
   * Sets a crawl gauge: {@code fetchbus.crawl.jobs} (jobs by state) or {@code fetchbus.crawl.frontier.entries}
   * (frontier entries by state, all jobs). The store refreshes them from Postgres on a timer; a scrape only reads.
   */
  public void crawlGauge(String meter, String state, long value) {
    crawlGauges.computeIfAbsent(meter + "|" + state, k -> {
      AtomicLong gauge = new AtomicLong();
      Gauge.builder(meter, gauge, AtomicLong::get).tag("state", state)
          .description(meter.endsWith("jobs") ? "Crawl and batch jobs by state (the whole database)"
              : "Crawl frontier entries by state, over all jobs (the whole database)")
          .register(registry);
      return gauge;
    }).set(value);
  }

  private Counter fetches(String outcome, String statusClass) {
    return counter("fetchbus.fetches", "Upstream fetches by outcome (ok or the failure's slug) and HTTP status class",
        "outcome", outcome, "status_class", statusClass);
  }

  private Counter counter(String name, String description, String... tags) {
    return counters.computeIfAbsent(name + String.join("|", tags),
        k -> Counter.builder(name).description(description).tags(tags).register(registry));
  }

  /** {@code 2xx} for 200 to 299, and so on; {@code other} for a status outside 100 to 599. */
  static String statusClass(int status) {
    return status >= 100 && status <= 599 ? status / 100 + "xx" : "other";
  }

  /** The failure's slug ({@code dns-failure}, {@code robots-disallowed}, ...): a fixed set, the problem types. */
  static String slug(Throwable err) {
    return err instanceof ReplyException re ? Failure.of(FailureReplies.status(re), re.getMessage()).slug : Failure.INTERNAL.slug;
  }
}
