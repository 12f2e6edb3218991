package io.fetchbus.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FetchResult;
import io.fetchbus.bus.Rendezvous;
import io.fetchbus.bus.WebUrl;
import io.fetchbus.config.ConfigLoader;
import io.fetchbus.ops.Meters;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.Poll;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Two fetch nodes in one JVM, each with its own limiter, origin leases and {@link HttpFetcher}, over one PostgreSQL
 * (through a store verticle) and a site on a real socket that counts the requests it is serving at once, per node
 * (each node sends its own User-Agent). The test plays the cluster: what each node hears (its view), and whether its
 * rounds reach the store (a node cut off from PostgreSQL, as a frozen or partitioned one is). Processes that freeze
 * and a real Hazelcast split are {@code ClusterIT}'s; this pins down the leases' rules, with the clocks they run on.
 */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class OriginLeasesTest extends TestBase {
  private static final long LEASE_MS = 3_000;
  private static final int LIMIT = 2;
  /** The jar's settings, which each node's own values are laid over. */
  private static final JsonObject DEFAULTS = ConfigLoader.loadNow(new JsonObject(), Map.of());

  private CountingSite site;
  private final List<Node> nodes = new ArrayList<>();

  @BeforeEach
  void start(VertxTestContext ctx) {
    ServiceUnderTest.fresh(vertx, new JsonObject())
        .compose(fb -> CountingSite.start(vertx))
        .onSuccess(s -> site = s)
        .onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void stopNodes(VertxTestContext ctx) {
    Future.all(nodes.stream().map(n -> n.leases.stop()).toList())
        .compose(v -> TestDatabase.count(vertx, "SELECT count(*) FROM origin_leases"))
        .onComplete(ctx.succeedingThenComplete());
  }

  /** A fetch node of the test: its id, what it hears, whether the store hears it, and its fetch engine. */
  private final class Node {
    final String id;
    final HostLimiter limiter = new HostLimiter(vertx, 100, 100, 1_000);
    final List<String> view = new CopyOnWriteArrayList<>();
    final AtomicBoolean cutOff = new AtomicBoolean();
    final OriginLeases leases;
    final HttpFetcher fetcher;
    final Context context = vertx.getOrCreateContext();
    /** The node a redirect to an origin this node does not own is followed on (as FetchVerticle does). */
    volatile Node peer;

    Node(String id) {
      this(id, LEASE_MS);
    }

    Node(String id, long leaseMs) {
      this(id, leaseMs, 0);
    }

    Node(String id, long leaseMs, long perHostDelayMs) {
      this.id = id;
      view.add(id);
      leases = new OriginLeases(vertx, id, leaseMs, limiter, () -> List.copyOf(view), round -> cutOff.get()
          ? vertx.timer(50).compose(t -> Future.failedFuture("cut off from PostgreSQL"))
          : vertx.eventBus().<JsonObject>request(Bus.ORIGIN_LEASES, round).map(Message::body));
      FetchSettings settings = FetchSettings.from(DEFAULTS.copy().mergeIn(new JsonObject().put("fetch", new JsonObject()
          .put("perHostConcurrency", LIMIT).put("perHostDelayMs", perHostDelayMs).put("timeoutMs", 30_000).put("firstByteTimeoutMs", 30_000)
          .put("userAgent", id)), true));
      DestinationGuard guard = new DestinationGuard(vertx, new AddressPolicy(true, List.of(), List.of()), Set.of(),
          Set::of, Set.of(), Meters.of(vertx));
      fetcher = new HttpFetcher(vertx, context, vertx.createHttpClient(new HttpClientOptions()), settings, guard,
          limiter, RobotsCache.shared(vertx, settings), Meters.of(vertx), this::elsewhere);
      leases.start(context);
      nodes.add(this);
    }

    /** One fetch of {@code path} on this node's context: its result, or the failure it ended with. */
    Future<Object> fetch(String path) {
      Promise<Object> done = Promise.promise();
      context.runOnContext(v -> fetcher.fetch(WebUrl.parse("url", site.url(path)), fetcher.defaults(false, null))
          .onComplete(ar -> done.complete(ar.succeeded() ? ar.result() : ar.cause())));
      return done.future();
    }

    /** {@link HttpFetcher.Elsewhere}: the peer fetches a redirect's target when it owns its origin. */
    private Future<FetchResult> elsewhere(WebUrl url, int redirects, boolean obeyRobots, int perHost, long timeoutMs) {
      Node other = peer;
      if (other == null || !Rendezvous.ownerOfOrigin(url.origin(), List.copyOf(view)).equals(other.id)) {
        return null;
      }
      Promise<FetchResult> there = Promise.promise();
      other.context.runOnContext(v -> other.fetcher.fetch(url, other.fetcher.defaults(obeyRobots, perHost)
          .afterRedirects(redirects)).onComplete(there));
      return there.future();
    }

    void hears(String... ids) {
      view.clear();
      view.addAll(List.of(ids));
    }
  }

  /** Two node ids, the first of which owns the site's origin bucket when both are heard. */
  private List<String> idsWithFirstOwning() {
    String origin = WebUrl.parse("url", site.url("/")).origin();
    while (true) {
      String a = "test-" + UUID.randomUUID();
      String b = "test-" + UUID.randomUUID();
      if (Rendezvous.ownerOfOrigin(origin, List.of(a, b)).equals(a)) {
        return List.of(a, b);
      }
    }
  }

  private Future<List<Object>> fetchAll(Node node, String prefix, int n) {
    List<Future<Object>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(node.fetch("/" + prefix + "/" + i));
    }
    return Future.all(all).map(f -> f.<Object>list());
  }

  /** Looks at {@code node}'s refusal of {@code bucket} every 25 ms for {@code ms}: fails if it ever lapses. */
  private Future<Void> refusedThroughout(Node node, int bucket, long ms) {
    Promise<Void> done = Promise.promise();
    long end = System.nanoTime() + ms * 1_000_000;
    vertx.setPeriodic(25, timer -> {
      if (node.leases.refusalNow(bucket) == null) {
        vertx.cancelTimer(timer);
        done.tryFail(new AssertionError("the refusal lapsed while the other half renewed its lease"));
      } else if (System.nanoTime() - end >= 0) {
        vertx.cancelTimer(timer);
        done.tryComplete();
      }
    });
    return done.future();
  }

  private static long served(List<Object> results) {
    return results.stream().filter(r -> r instanceof FetchResult fr && fr.status() == 200).count();
  }

  private static long unavailable(List<Object> results) {
    return results.stream().filter(r -> r instanceof Throwable t && Failure.UNAVAILABLE.is(t)).count();
  }

  @Test
  @DisplayName("a split from its first moment: two nodes that each believe they are alone start fetching one site at "
      + "once; one holds the origin's lease and fetches it all, the other fetches nothing and answers 503 as soon as it "
      + "sees the holder renew, and the site never serves more than the per-host limit at once")
  void splitFromTheFirstMoment(VertxTestContext ctx) {
    site.delayMs(50);
    Node a = new Node("test-" + UUID.randomUUID());
    Node b = new Node("test-" + UUID.randomUUID());
    long started = System.nanoTime();
    Future.all(fetchAll(a, "a", 20), fetchAll(b, "b", 20)).onComplete(ctx.succeeding(both -> ctx.verify(() -> {
      List<Object> ofA = both.resultAt(0);
      List<Object> ofB = both.resultAt(1);
      long tookMs = (System.nanoTime() - started) / 1_000_000;
      assertThat(site.maxInProgress()).as("requests the site served at once").isLessThanOrEqualTo(LIMIT);
      assertThat(site.maxInProgressOfAll()).as("requests the site served at once, all nodes").isLessThanOrEqualTo(LIMIT);
      // One node has the lease; the other fetched nothing and was refused before its requests waited out a lease.
      List<Object> winner = served(ofA) > 0 ? ofA : ofB;
      List<Object> loser = winner == ofA ? ofB : ofA;
      assertThat(served(winner)).isEqualTo(20);
      assertThat(served(loser)).isZero();
      assertThat(unavailable(loser)).isEqualTo(20);
      assertThat(site.nodesSeen()).hasSize(1);
      assertThat(tookMs).as("ms until every fetch was answered").isLessThan(2 * LEASE_MS + LEASE_MS / 4);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("the owner is cut off from PostgreSQL while the site holds its requests, and the other node takes over: "
      + "the owner closes its requests when its lease's validity ends, before the other can hold it; the other fetches "
      + "the site; the owner, back and still believing it is alone (a split), is refused at once; once the nodes hear "
      + "each other again the origin goes back to its owner; the site never serves more than the limit at once")
  void cutOffThawAndMerge(VertxTestContext ctx) {
    List<String> ids = idsWithFirstOwning();
    Node a = new Node(ids.get(0));
    Node b = new Node(ids.get(1));
    a.hears(a.id, b.id);
    b.hears(a.id, b.id);
    site.hold(a.id);
    List<Object> ofA = new CopyOnWriteArrayList<>();
    // A, the owner, holds the site's requests in flight: LIMIT at the site, the rest waiting in A's queue.
    fetchAll(a, "held", 4).onSuccess(ofA::addAll);
    Poll.until(vertx, () -> Future.succeededFuture(site.inProgress(a.id) == LIMIT))
        .compose(v -> {
          // A is cut off (frozen, partitioned): its rounds fail, and B stops hearing it.
          a.cutOff.set(true);
          b.hears(b.id);
          return fetchAll(b, "b", 6);
        })
        .compose(ofB -> Poll.until(vertx, () -> Future.succeededFuture(ofA.size() == 4)).map(ofB))
        .compose(ofB -> {
          ctx.verify(() -> {
            assertThat(served(ofB)).as("B's fetches once it held the lease").isEqualTo(6);
            assertThat(unavailable(ofA)).as("A's fetches, closed or refused when its lease ran out").isEqualTo(4);
            assertThat(site.firstArrival(b.id)).as("B's first request came after A's were closed")
                .isGreaterThanOrEqualTo(site.lastEnd(a.id));
          });
          site.release();
          // A is back, still believing it is alone: B holds the lease and renews it, so A is refused at once.
          a.hears(a.id);
          a.cutOff.set(false);
          int bucket = Rendezvous.bucket(WebUrl.parse("url", site.url("/")).origin());
          return Poll.until(vertx, () -> Future.succeededFuture(a.leases.refusal(bucket) != null))
              // Between two of B's renewals (a quarter lease apart) come several of A's rounds: it keeps refusing.
              .compose(v -> refusedThroughout(a, bucket, LEASE_MS / 2))
              .compose(v -> Future.all(fetchAll(a, "a-split", 3), fetchAll(b, "b-split", 3)));
        })
        .compose(split -> {
          ctx.verify(() -> {
            assertThat(unavailable(split.resultAt(0))).as("A's fetches during the split").isEqualTo(3);
            assertThat(served(split.resultAt(1))).as("B's fetches during the split").isEqualTo(3);
          });
          // The split heals: both hear each other, A owns the origin again, B lets it go once its requests are over.
          a.hears(a.id, b.id);
          b.hears(a.id, b.id);
          return Poll.until(vertx, () -> Future.succeededFuture(a.leases.holds(Rendezvous.bucket(
              WebUrl.parse("url", site.url("/")).origin()))));
        })
        .compose(v -> fetchAll(a, "a-merged", 4))
        .onComplete(ctx.succeeding(merged -> ctx.verify(() -> {
          assertThat(served(merged)).isEqualTo(4);
          assertThat(site.maxInProgressOfAll()).as("requests the site served at once, all nodes").isLessThanOrEqualTo(LIMIT);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a node that stops gives its leases back: another node holds them within rounds, not after the minute "
      + "they would take to run out")
  void stopGivesLeasesBack(VertxTestContext ctx) {
    List<String> ids = idsWithFirstOwning();
    Node a = new Node(ids.get(0), 60_000);
    Node b = new Node(ids.get(1), 60_000);
    a.hears(a.id, b.id);
    b.hears(a.id, b.id);
    int bucket = Rendezvous.bucket(WebUrl.parse("url", site.url("/")).origin());
    Poll.until(vertx, () -> Future.succeededFuture(a.leases.holds(bucket)))
        .compose(v -> fetchAll(a, "a", 2))
        .compose(v -> {
          b.hears(b.id);
          long stopped = System.nanoTime();
          return a.leases.stop()
              .compose(x -> fetchAll(b, "b", 2))
              .map(ofB -> {
                ctx.verify(() -> {
                  assertThat(served(ofB)).isEqualTo(2);
                  assertThat((System.nanoTime() - stopped) / 1_000_000).as("ms until B fetched")
                      .isLessThan(LEASE_MS);
                });
                return null;
              });
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a delay between starts longer than the margin is kept when the holder vanishes: the owner fetches "
      + "once and is cut off; the other node takes the lease when it runs out, and waits the delay before its first "
      + "request, counted from when it came to hold the lease")
  void delayKeptWhenALeaseRunsOut(VertxTestContext ctx) {
    // Without that wait the other node starts as soon as it holds the lease: within LEASE_MS (and a round) of the
    // owner's last request, well under the delay.
    long delayMs = 8_000;
    List<String> ids = idsWithFirstOwning();
    Node a = new Node(ids.get(0), LEASE_MS, delayMs);
    Node b = new Node(ids.get(1), LEASE_MS, delayMs);
    a.hears(a.id, b.id);
    b.hears(a.id, b.id);
    int bucket = Rendezvous.bucket(WebUrl.parse("url", site.url("/")).origin());
    Poll.until(vertx, () -> Future.succeededFuture(a.leases.holds(bucket)))
        .compose(v -> a.fetch("/a/0"))
        .compose(ofA -> {
          ctx.verify(() -> assertThat(ofA).isInstanceOf(FetchResult.class));
          a.cutOff.set(true); // frozen or partitioned: its lease runs out instead of being handed over
          b.hears(b.id);
          return b.fetch("/b/0");
        })
        .onComplete(ctx.succeeding(ofB -> ctx.verify(() -> {
          assertThat(ofB).isInstanceOf(FetchResult.class);
          assertThat((site.firstArrival(b.id) - site.lastEnd(a.id)) / 1_000_000)
              .as("ms between the owner's last request and the other node's first").isGreaterThanOrEqualTo(delayMs);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a redirect to an origin the other node owns is followed by that node, under its lease: the result is "
      + "the original URL's, with the target's final URL and page, and the target saw only the other node")
  void redirectFollowedByTheTargetsOwner(VertxTestContext ctx) {
    CountingSite.start(vertx).onComplete(ctx.succeeding(target -> {
      String from = WebUrl.parse("url", site.url("/")).origin();
      String to = WebUrl.parse("url", target.url("/")).origin();
      String[] ids;
      do {
        ids = new String[] {"test-" + UUID.randomUUID(), "test-" + UUID.randomUUID()};
      } while (!Rendezvous.ownerOfOrigin(from, List.of(ids)).equals(ids[0])
          || !Rendezvous.ownerOfOrigin(to, List.of(ids)).equals(ids[1]));
      String a = ids[0];
      String b = ids[1];
      Node nodeA = new Node(a);
      Node nodeB = new Node(b);
      nodeA.hears(a, b);
      nodeB.hears(a, b);
      nodeA.peer = nodeB;
      nodeB.peer = nodeA;
      String location = target.url("/target");
      nodeA.fetch("/redirect?to=" + java.net.URLEncoder.encode(location, java.nio.charset.StandardCharsets.UTF_8))
          .onComplete(ctx.succeeding(result -> ctx.verify(() -> {
            assertThat(result).isInstanceOf(FetchResult.class);
            FetchResult fetched = (FetchResult) result;
            assertThat(fetched.status()).isEqualTo(200);
            assertThat(fetched.url()).startsWith(site.url("/redirect"));
            assertThat(fetched.finalUrl()).isEqualTo(location);
            assertThat(site.nodesSeen()).containsExactly(a);
            assertThat(target.nodesSeen()).containsExactly(b);
            ctx.completeNow();
          })));
    }));
  }

  /**
   * A site on 127.0.0.1 that counts the requests it is serving, per User-Agent (the node) and in all, from their
   * arrival to the end of their response or the close of their connection, and can hold them or answer late.
   */
  static final class CountingSite {
    private final io.vertx.core.Vertx vertx;
    private HttpServer server;
    private final java.util.Map<String, AtomicInteger> inProgress = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicInteger all = new AtomicInteger();
    private final AtomicInteger maxAll = new AtomicInteger();
    private final AtomicInteger maxOne = new AtomicInteger();
    private final java.util.Map<String, Long> firstArrival = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.Map<String, Long> lastEnd = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<Runnable> held = new ArrayList<>();
    private volatile String holding;
    private volatile long delayMs;

    private CountingSite(io.vertx.core.Vertx vertx) {
      this.vertx = vertx;
    }

    static Future<CountingSite> start(io.vertx.core.Vertx vertx) {
      CountingSite site = new CountingSite(vertx);
      return vertx.createHttpServer().requestHandler(site::handle).listen(0, "127.0.0.1").map(s -> {
        site.server = s;
        return site;
      });
    }

    private void handle(HttpServerRequest req) {
      String node = String.valueOf(req.getHeader("User-Agent"));
      firstArrival.putIfAbsent(node, System.nanoTime());
      AtomicInteger mine = inProgress.computeIfAbsent(node, k -> new AtomicInteger());
      maxOne.accumulateAndGet(mine.incrementAndGet(), Math::max);
      maxAll.accumulateAndGet(all.incrementAndGet(), Math::max);
      AtomicBoolean over = new AtomicBoolean();
      Runnable end = () -> {
        if (over.compareAndSet(false, true)) {
          mine.decrementAndGet();
          all.decrementAndGet();
          lastEnd.merge(node, System.nanoTime(), Math::max);
        }
      };
      req.response().endHandler(v -> end.run());
      req.response().closeHandler(v -> end.run());
      req.connection().closeHandler(v -> end.run());
      Runnable answer = req.path().equals("/redirect")
          ? () -> req.response().setStatusCode(302).putHeader("Location", req.getParam("to")).end()
          : () -> req.response().putHeader("Content-Type", "text/plain").end("ok");
      if (node.equals(holding)) {
        synchronized (held) {
          held.add(answer);
        }
      } else if (delayMs > 0) {
        vertx.setTimer(delayMs, t -> answer.run());
      } else {
        answer.run();
      }
    }

    String url(String path) {
      return "http://127.0.0.1:" + server.actualPort() + path;
    }

    void delayMs(long ms) {
      delayMs = ms;
    }

    /** Holds the requests of {@code node} until {@link #release}. */
    void hold(String node) {
      holding = node;
    }

    void release() {
      holding = null;
      List<Runnable> now;
      synchronized (held) {
        now = List.copyOf(held);
        held.clear();
      }
      now.forEach(Runnable::run);
    }

    int inProgress(String node) {
      AtomicInteger n = inProgress.get(node);
      return n == null ? 0 : n.get();
    }

    /** The most requests of one node served at once. */
    int maxInProgress() {
      return maxOne.get();
    }

    /** The most requests served at once, whichever node sent them. */
    int maxInProgressOfAll() {
      return maxAll.get();
    }

    Collection<String> nodesSeen() {
      return firstArrival.keySet();
    }

    long firstArrival(String node) {
      return firstArrival.getOrDefault(node, Long.MAX_VALUE);
    }

    long lastEnd(String node) {
      return lastEnd.getOrDefault(node, Long.MIN_VALUE);
    }
  }
}
