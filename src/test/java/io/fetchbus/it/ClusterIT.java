package io.fetchbus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Rendezvous;
import io.fetchbus.support.CrawlChecks;
import io.fetchbus.support.ServiceUnderTest;
import io.fetchbus.support.GraphSite;
import io.fetchbus.support.JobClient;
import io.fetchbus.support.Poll;
import io.fetchbus.support.Processes;
import io.fetchbus.support.Receiver;
import io.fetchbus.support.ServiceProcess;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.fetchbus.support.TestSite;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Cluster mode, as processes of the fat jar on 127.0.0.1: node A runs every role, node B only fetch and extract.
 * Each test gets a Hazelcast cluster of its own (a unique name and free ports, from the shipped conf/cluster.xml),
 * so that nothing else on the machine can join it.
 */
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class ClusterIT extends TestBase {
  private static final int SIGKILL_EXIT = 128 + 9;
  private static final int PER_HOST = 2;
  /** Deeper than any page of a 100-page test site, so the expected set is every page. */
  private static final int DEPTH = 10;
  /** A crawl of 30 pages with a frozen member: seconds once B's heartbeats stop; a minute if requests wait on B. */
  private static final long FROZEN_DEADLINE_S = 25;
  /** A killed node's leases back and 25 pages crawled: seconds; crawl.leaseMs (120 s here) if they must expire. */
  private static final long RELEASE_DEADLINE_S = 30;
  private static final Pattern HAZELCAST_UP = Pattern.compile("Members \\{size:");
  private static final Pattern STARTED_WITHOUT_API = Pattern.compile("Fetchbus started without the api role");
  private static final Pattern NODE_ID = Pattern.compile("node (\\S+) \\(clustered\\) runs");
  /** Fetch, extract and store timeouts in the routing test: what a request that waits on a frozen member costs. */
  private static final long ROUTED_TIMEOUT_MS = 8_000;
  /** Four cancelled crawls' completed webhooks, from a live node: seconds; never, if any waits on a frozen one. */
  private static final long ENDED_DEADLINE_S = 20;
  /** cluster.originLeaseMs of the nodes: how long a killed or frozen node's origins wait for another node. */
  private static final long ORIGIN_LEASE_MS = 3_000;

  @RegisterExtension
  final Processes processes = new Processes();
  private Path clusterXml;

  /** The two nodes, A's API, and the fetch node ids of A and B. */
  private record Cluster(ServiceProcess a, ServiceProcess b, ServiceUnderTest fb, String idA, String idB) {
    List<String> fetchNodes() {
      return List.of(idA, idB);
    }
  }

  /**
   * The shipped conf/cluster.xml with a cluster name of this test's own and a base port nobody uses, joining at
   * once instead of waiting 5 s for other members (the first node is up before the next starts). Split clusters
   * merge within seconds by the shipped file's own settings.
   */
  @BeforeEach
  void clusterConfig() throws IOException {
    clusterXml = newClusterConfig();
  }

  /** A Hazelcast configuration of a cluster of its own (see {@link #clusterConfig}), in a file. */
  private static Path newClusterConfig() throws IOException {
    return newClusterConfig(Map.of());
  }

  /** The same, with more Hazelcast {@code properties}. */
  private static Path newClusterConfig(Map<String, String> properties) throws IOException {
    String xml = Files.readString(Path.of("conf", "cluster.xml"));
    int base = freePorts(5);
    String name = "fetchbus-it-" + UUID.randomUUID();
    StringBuilder more = new StringBuilder();
    properties.forEach((k, v) -> more.append("\n    <property name=\"").append(k).append("\">").append(v).append("</property>"));
    xml = xml.replace("<cluster-name>fetchbus</cluster-name>", "<cluster-name>" + name + "</cluster-name>")
        .replace("port-count=\"20\">5701</port>", "port-count=\"5\">" + base + "</port>")
        .replace("<properties>", "<properties>\n    <property name=\"hazelcast.wait.seconds.before.join\">0</property>"
            + "\n    <property name=\"hazelcast.tcp.join.port.try.count\">5</property>" + more);
    assertThat(xml).contains(name).contains(">" + base + "</port>")
        .contains("<property name=\"hazelcast.merge.next.run.delay.seconds\">10</property>");
    Path dir = Path.of("target", "it").toAbsolutePath();
    Files.createDirectories(dir);
    Path file = dir.resolve(name + ".xml");
    Files.writeString(file, xml);
    return file;
  }

  /** The first of {@code n} consecutive ports free on 127.0.0.1 (checked here, on the test thread). */
  private static int freePorts(int n) throws IOException {
    for (int attempt = 0; attempt < 100; attempt++) {
      int base = ThreadLocalRandom.current().nextInt(20_000, 40_000);
      List<ServerSocket> open = new ArrayList<>();
      try {
        for (int i = 0; i < n; i++) {
          open.add(new ServerSocket(base + i, 1, InetAddress.getLoopbackAddress()));
        }
        return base;
      } catch (IOException taken) {
        // try another range
      } finally {
        for (ServerSocket s : open) {
          s.close();
        }
      }
    }
    throw new IOException("no " + n + " consecutive free ports");
  }

  /** Settings both nodes share: the test's cluster, quick heartbeats, the per-host limit, short timeouts and leases. */
  private Map<String, String> nodeEnv() {
    Map<String, String> env = ServiceProcess.baseEnv();
    env.put("FETCHBUS_CLUSTER_CONFIG", clusterXml.toString());
    env.put("FETCHBUS_CLUSTER_HEARTBEAT_MS", "500");
    env.put("FETCHBUS_CLUSTER_NODE_TIMEOUT_MS", "1500");
    env.put("FETCHBUS_FETCH_PER_HOST_CONCURRENCY", String.valueOf(PER_HOST));
    // What a request in flight to a node that dies waits for: its bus timeout (fetch.timeoutMs + 5 s for a crawl).
    env.put("FETCHBUS_FETCH_TIMEOUT_MS", "4000");
    env.put("FETCHBUS_EXTRACT_TIMEOUT_MS", "4000");
    env.put("FETCHBUS_CRAWL_LEASE_MS", "3000");
    env.put("FETCHBUS_SHUTDOWN_GRACE_MS", "1000");
    // A killed or frozen node's origins are fetched by another node once its origin leases have run out: 3 s here.
    env.put("FETCHBUS_CLUSTER_ORIGIN_LEASE_MS", String.valueOf(ORIGIN_LEASE_MS));
    return env;
  }

  /**
   * A (every role, given with --roles and -cluster) first; once its Hazelcast member is up, B (fetch and extract,
   * given with FETCHBUS_ROLES and FETCHBUS_CLUSTER_ENABLED). Done when A hears both fetch nodes.
   */
  private Future<Cluster> startCluster(String test, Map<String, String> extraEnv) {
    return startCluster(test, extraEnv, "fetch,extract");
  }

  /** The same, with B running {@code rolesOfB}. */
  private Future<Cluster> startCluster(String test, Map<String, String> extraEnv, String rolesOfB) {
    Map<String, String> envA = nodeEnv();
    envA.putAll(extraEnv);
    ServiceProcess a = processes.launch(vertx, test + "-a", envA,
        List.of("-cluster", "--roles", "api,store,crawl,extract,fetch"));
    return a.awaitLog(HAZELCAST_UP).compose(up -> {
      Map<String, String> envB = nodeEnv();
      envB.putAll(extraEnv);
      envB.put("FETCHBUS_ROLES", rolesOfB);
      envB.put("FETCHBUS_CLUSTER_ENABLED", "true");
      ServiceProcess b = processes.launch(vertx, test + "-b", envB);
      return Future.all(a.port(), b.awaitLog(STARTED_WITHOUT_API)).compose(started -> {
        ServiceUnderTest fb = ServiceUnderTest.at(vertx, started.<Integer>resultAt(0));
        return Poll.until(vertx, () -> clusterView(fb).map(v -> v.getJsonArray("fetchNodes").size() == 2))
            .compose(v -> clusterView(fb))
            .map(view -> {
              String idA = view.getString("node");
              String idB = view.getJsonArray("fetchNodes").stream().map(n -> ((JsonObject) n).getString("id"))
                  .filter(id -> !id.equals(idA)).findFirst().orElseThrow();
              return new Cluster(a, b, fb, idA, idB);
            });
      });
    }).compose(c -> TestDatabase.truncate(vertx).map(c));
  }

  private static Future<JsonObject> clusterView(ServiceUnderTest fb) {
    return fb.get("/v1/cluster").map(r -> r.bodyAsJsonObject());
  }

  /** A test site whose origin the node {@code owner} owns among {@code nodes} (another port until it does). */
  private Future<TestSite> siteOwnedBy(String owner, List<String> nodes, int size) {
    return TestSite.start(vertx, size).compose(site ->
        Rendezvous.ownerOfOrigin("http://127.0.0.1:" + site.port(), nodes).equals(owner) ? Future.succeededFuture(site)
            : siteOwnedBy(owner, nodes, size));
  }

  private static JsonObject crawlOf(TestSite site, int depth) {
    return new JsonObject().put("url", site.url("/p/0")).put("sitemap", "skip").put("maxDepth", depth);
  }

  /** Crawls {@code site} through A's API until it is finished; checks the exact page set. */
  private static Future<JsonObject> crawlExactly(ServiceUnderTest fb, TestSite site, int depth) {
    Set<String> expected = TestSite.pages(site.reachable(depth, link -> true));
    return JobClient.crawl(fb, crawlOf(site, depth))
        .compose(id -> JobClient.finished(fb, "/v1/crawls/" + id)
            .compose(job -> CrawlChecks.exactPages(fb, id, expected).map(job)))
        .map(job -> {
          assertThat(job.getString("status")).isEqualTo("completed");
          assertThat(job.getInteger("completed")).isEqualTo(expected.size());
          return job;
        });
  }

  /**
   * {@code work}, or, when it has not ended by {@code deadline} ({@link System#nanoTime}), a failure that says where
   * the crawls stand: the frontier's entries by state, lease owner and attempts, and the origin leases by node (a
   * test's timeout would say nothing).
   */
  private <T> Future<T> explainedIfLate(Future<T> work, long deadline) {
    Promise<T> result = Promise.promise();
    long ms = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    long timer = vertx.setTimer(ms, t -> Future.all(
            TestDatabase.rows(vertx, "SELECT state, lease_owner, attempts, next_at > now() AS later, count(*) AS n "
                + "FROM frontier GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"),
            TestDatabase.rows(vertx, "SELECT id, state FROM crawl_jobs"),
            TestDatabase.rows(vertx, "SELECT owner, count(*) AS buckets, max(lease_until) - now() AS left "
                + "FROM origin_leases GROUP BY 1"))
        .onComplete(ar -> result.tryFail(new AssertionError("not done by the deadline; "
            + (ar.succeeded() ? "frontier " + ar.result().resultAt(0) + ", jobs " + ar.result().resultAt(1)
            + ", origin leases " + ar.result().resultAt(2) : "and the database could not say why: " + ar.cause())))));
    work.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        result.tryComplete(ar.result());
      } else {
        result.tryFail(ar.cause());
      }
    });
    return result.future();
  }

  @Test
  @DisplayName("two nodes with different roles crawl two sites exactly, both nodes fetch (each the origins it owns), "
      + "the per-host limit holds across the cluster, and a verticle of another application in its own JVM joins "
      + "the cluster, gets a reply from fetchbus.fetch and has a Java-serialized body refused")
  void twoNodesShareTheWork(VertxTestContext ctx) {
    startCluster("cluster-share", Map.of())
        .compose(c -> Future.all(siteOwnedBy(c.idA(), c.fetchNodes(), 100), siteOwnedBy(c.idB(), c.fetchNodes(), 100))
            .compose(sites -> {
              // Pages take 20 ms, so that the crawl's 8 requests per host in flight truly compete for the 2 slots.
              TestSite ownedByA = sites.<TestSite>resultAt(0).slow(20);
              TestSite ownedByB = sites.<TestSite>resultAt(1).slow(20);
              ServiceProcess other = processes.java(vertx, "cluster-share-other-app", Map.of(), List.of(
                  "-cp", ServiceProcess.JAR + ":" + Path.of("target", "test-classes").toAbsolutePath(),
                  "-Dvertx.hazelcast.config=" + clusterXml,
                  "io.vertx.launcher.application.VertxApplication", OtherAppVerticle.class.getName(), "-cluster",
                  "-conf", new JsonObject().put("url", ownedByB.url("/p/1")).encode()));
              return Future.all(crawlExactly(c.fb(), ownedByA, DEPTH), crawlExactly(c.fb(), ownedByB, DEPTH))
                  .compose(crawled -> other.exited(60_000).compose(code -> other.readOutput().map(out -> {
                    ctx.verify(() -> {
                      assertThat(out).contains("OTHER-APP fetched " + ownedByB.url("/p/1") + " status=200")
                          .contains("OTHER-APP serialized body refused with 400");
                      assertThat(code).as("the other application's exit code").isZero();
                      assertThat(ownedByA.maxInProgress()).as("requests in progress at once at A's site").isEqualTo(PER_HOST);
                      assertThat(ownedByB.maxInProgress()).as("requests in progress at once at B's site").isEqualTo(PER_HOST);
                    });
                    return null;
                  })))
                  // Each node's heartbeat carries the upstream requests it started: both fetched.
                  .compose(v -> Poll.until(vertx, () -> clusterView(c.fb()).map(view -> fetches(view, c.idA()) > 0
                      && fetches(view, c.idB()) > 0)))
                  // The bus hands the other application's request to either node: that one refused it, and said so.
                  .compose(v -> Future.all(c.a().readOutput(), c.b().readOutput()).map(outs -> {
                    ctx.verify(() -> assertThat(outs.<String>resultAt(0) + outs.<String>resultAt(1))
                        .contains("refused a message to fetchbus.fetch from another node"));
                    return null;
                  }));
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  private static long fetches(JsonObject view, String node) {
    JsonArray nodes = view.getJsonArray("fetchNodes");
    for (int i = 0; i < nodes.size(); i++) {
      if (nodes.getJsonObject(i).getString("id").equals(node)) {
        return nodes.getJsonObject(i).getLong("fetches");
      }
    }
    return 0;
  }

  @Test
  @DisplayName("kill -9 of the fetch-only node mid-crawl, while it holds the fetches of the site it owns: its origins "
      + "move to the other node and the crawl completes with exactly the expected pages")
  void killNineOfAFetchNode(VertxTestContext ctx) {
    // A request in flight to the dead node may cost a URL two attempts (its fetch and its extraction time out).
    startCluster("cluster-kill9", Map.of("FETCHBUS_CRAWL_MAX_ATTEMPTS", "5"))
        .compose(c -> siteOwnedBy(c.idB(), c.fetchNodes(), 100).compose(site -> {
          Set<String> expected = TestSite.pages(site.reachable(DEPTH, link -> true));
          site.hold();
          return JobClient.crawl(c.fb(), crawlOf(site, DEPTH))
              .compose(id -> midCrawl(site).map(id))
              .compose(id -> {
                c.b().kill();
                return c.b().exited(10_000).map(code -> {
                  ctx.verify(() -> assertThat(code).as("exit code after SIGKILL").isEqualTo(SIGKILL_EXIT));
                  site.release();
                  return id;
                });
              })
              .compose(id -> JobClient.finished(c.fb(), "/v1/crawls/" + id)
                  .compose(job -> CrawlChecks.exactPages(c.fb(), id, expected).map(job)))
              .compose(job -> c.a().awaitLog(Pattern.compile("fetch node " + c.idB() + " left")).map(left -> {
                ctx.verify(() -> {
                  assertThat(job.getString("status")).isEqualTo("completed");
                  assertThat(job.getInteger("completed")).isEqualTo(expected.size());
                });
                return null;
              }));
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("two crawl nodes where the short path to a dozen pages answers late: the long paths find them first, "
      + "too deep, and the crawl still stores exactly the pages within maxDepth by the shortest path, each once")
  void twoCrawlNodesKeepTheShortestDepth(VertxTestContext ctx) {
    int branches = 6;
    int maxDepth = 4;
    // / -> /short and /a<i>; /a<i> -> /b<i> -> /x<i> (depth 3 that way); /short -> every /x<i> (depth 2 this way);
    // /x<i> -> /y<i> -> /z<i> -> /beyond. /z<i> is within maxDepth only through /short.
    Map<String, List<String>> graph = new HashMap<>();
    List<String> fromSeed = new ArrayList<>(List.of("/short"));
    List<String> fromShort = new ArrayList<>();
    for (int i = 0; i < branches; i++) {
      fromSeed.add("/a" + i);
      fromShort.add("/x" + i);
      graph.put("/a" + i, List.of("/b" + i));
      graph.put("/b" + i, List.of("/x" + i));
      graph.put("/x" + i, List.of("/y" + i));
      graph.put("/y" + i, List.of("/z" + i));
      graph.put("/z" + i, List.of("/beyond"));
    }
    graph.put("/", fromSeed);
    graph.put("/short", fromShort);
    graph.put("/beyond", List.of());
    // Generous timeouts and attempts: /short is held for as long as the long paths take on a busy machine.
    Map<String, String> env = Map.of("FETCHBUS_FETCH_TIMEOUT_MS", "60000", "FETCHBUS_FETCH_FIRST_BYTE_TIMEOUT_MS", "60000",
        "FETCHBUS_CRAWL_MAX_ATTEMPTS", "5");
    startCluster("cluster-depth", env, "store,crawl,fetch,extract")
        .compose(c -> GraphSite.start(vertx, graph).compose(site -> {
          Set<String> expected = site.within(maxDepth);
          site.answerLate("/short");
          JsonObject spec = new JsonObject().put("url", site.url("/")).put("sitemap", "skip").put("maxDepth", maxDepth);
          return JobClient.crawl(c.fb(), spec)
              .compose(id -> Poll.until(vertx, () -> TestDatabase.count(vertx,
                      "SELECT count(*) FROM frontier WHERE state = 'done' AND depth = 4 AND url LIKE '%/y_'")
                  .map(done -> done == branches && site.heldCount() == 1))
                  .compose(v -> {
                    site.release();
                    return JobClient.finished(c.fb(), "/v1/crawls/" + id);
                  })
                  .compose(job -> CrawlChecks.exactPages(c.fb(), id, expected)
                      .compose(v -> CrawlChecks.storedDepths(vertx, id))
                      .map(depths -> {
                        ctx.verify(() -> {
                          assertThat(expected).hasSize(2 + 5 * branches);
                          assertThat(depths).isEqualTo(site.depths(maxDepth));
                          assertThat(job.getString("status")).isEqualTo("completed");
                          assertThat(job.getInteger("completed")).isEqualTo(expected.size());
                          assertThat(job.getInteger("failed")).isZero();
                          expected.forEach(p -> assertThat(site.hits(p)).as(p).isEqualTo(1));
                          assertThat(site.hits("/beyond")).isZero();
                        });
                        return null;
                      })));
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a node frozen by SIGSTOP keeps its bus registrations, yet the other node crawls a site the frozen one "
      + "owned exactly and within seconds (its own verticles do the work, the origin moves once the heartbeats stop), "
      + "and its /ready stays green throughout")
  void frozenNodeDoesNotStallTheOther(VertxTestContext ctx) {
    startCluster("cluster-freeze", Map.of(), "store,crawl,fetch,extract")
        .compose(c -> siteOwnedBy(c.idB(), c.fetchNodes(), 30).compose(site -> {
          Set<String> expected = TestSite.pages(site.reachable(DEPTH, link -> true));
          List<String> notReady = new CopyOnWriteArrayList<>();
          return c.b().freeze().compose(frozen -> {
            long readyProbe = vertx.setPeriodic(250, t -> c.fb().get("/ready").onComplete(ar -> {
              if (ar.failed() || ar.result().statusCode() != 200) {
                notReady.add(ar.failed() ? ar.cause().toString() : ar.result().bodyAsString());
              }
            }));
            // Hazelcast keeps the frozen member for 60 s: without node-local work, half of A's fetches, extractions
            // and store requests would wait out their timeouts on B, far past this deadline.
            return JobClient.crawl(c.fb(), crawlOf(site, DEPTH))
                .compose(id -> JobClient.finished(c.fb(), "/v1/crawls/" + id).timeout(FROZEN_DEADLINE_S, TimeUnit.SECONDS)
                    .compose(job -> CrawlChecks.exactPages(c.fb(), id, expected).map(job)))
                .eventually(() -> {
                  vertx.cancelTimer(readyProbe);
                  return c.b().thaw();
                });
          }).map(job -> {
            ctx.verify(() -> {
              assertThat(job.getString("status")).isEqualTo("completed");
              assertThat(job.getInteger("completed")).isEqualTo(expected.size());
              assertThat(notReady).as("/ready answers other than 200 while B was frozen").isEmpty();
              assertThat(site.maxInProgress()).as("requests in progress at once at the site").isLessThanOrEqualTo(PER_HOST);
            });
            return null;
          });
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("kill -9 of a crawl node that holds leases: the cluster sees it leave and its leases go back to the "
      + "frontier at once, not after crawl.leaseMs, and the crawl completes exactly")
  void leasesOfAKilledNodeAreReleased(VertxTestContext ctx) {
    int width = 24;
    Map<String, List<String>> graph = new HashMap<>();
    List<String> fromSeed = new ArrayList<>();
    for (int i = 0; i < width; i++) {
      fromSeed.add("/a" + i);
      graph.put("/a" + i, List.of());
    }
    graph.put("/", fromSeed);
    // A lease far longer than the wait below: only a release on leaving gets B's entries back in time.
    Map<String, String> env = Map.of("FETCHBUS_CRAWL_LEASE_MS", "120000", "FETCHBUS_CRAWL_MAX_ATTEMPTS", "5",
        "FETCHBUS_FETCH_TIMEOUT_MS", "60000", "FETCHBUS_FETCH_FIRST_BYTE_TIMEOUT_MS", "60000");
    startCluster("cluster-release", env, "store,crawl,fetch,extract")
        .compose(c -> GraphSite.start(vertx, graph).compose(site -> {
          fromSeed.forEach(site::answerLate);
          return JobClient.crawl(c.fb(), new JsonObject().put("url", site.url("/")).put("sitemap", "skip").put("maxDepth", 1))
              // Both crawl nodes hold leases on the held pages.
              .compose(id -> Poll.until(vertx, () -> TestDatabase.count(vertx,
                      "SELECT count(DISTINCT split_part(lease_owner, '/', 1)) FROM frontier WHERE state = 'leased'")
                  .map(owners -> owners == 2))
                  .compose(v -> TestDatabase.count(vertx, "SELECT count(*) FROM frontier WHERE state = 'leased' "
                      + "AND starts_with(lease_owner, '" + c.idB() + "/')"))
                  .compose(heldByB -> {
                    c.b().kill();
                    return c.b().exited(10_000).map(code -> {
                      site.release();
                      return heldByB;
                    });
                  })
                  .compose(heldByB -> JobClient.finished(c.fb(), "/v1/crawls/" + id).timeout(RELEASE_DEADLINE_S, TimeUnit.SECONDS)
                      .compose(job -> CrawlChecks.exactPages(c.fb(), id, site.within(1)).map(job))
                      .compose(job -> c.a().awaitLog(Pattern.compile("node " + c.idB() + " left the cluster: released "
                          + "its (\\d+) crawl leases")).map(released -> {
                        ctx.verify(() -> {
                          assertThat(heldByB).as("leases B held just before it was killed").isPositive();
                          assertThat(Long.parseLong(released.group(1))).as("B's leases released").isPositive();
                          assertThat(job.getString("status")).isEqualTo("completed");
                          assertThat(job.getInteger("completed")).isEqualTo(width + 1);
                          assertThat(job.getInteger("failed")).isZero();
                        });
                        return null;
                      }))));
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a node of another cluster (as the other half of a split) uses the same database: the node reports it "
      + "in /ready, in a metric and in one WARN line, keeps the origins with their whole per-host limit while it is "
      + "there (the other node does not fetch, so it owns none), and reports that it is gone once it is")
  void nodeOutsideTheClusterIsReported(VertxTestContext ctx) throws IOException {
    Map<String, String> env = nodeEnv();
    env.put("FETCHBUS_CLUSTER_SPLIT_CHECK_MS", "300");
    ServiceProcess a = processes.launch(vertx, "cluster-split-a", env,
        List.of("-cluster", "--roles", "api,store,crawl,extract,fetch"));
    Map<String, String> envB = nodeEnv();
    envB.put("FETCHBUS_CLUSTER_CONFIG", newClusterConfig().toString());
    envB.put("FETCHBUS_ROLES", "store");
    envB.put("FETCHBUS_CLUSTER_ENABLED", "true");
    ServiceProcess b = processes.launch(vertx, "cluster-split-b", envB);
    Pattern outsideWarning = Pattern.compile("WARN .*use this database but are not members of this cluster: ([0-9a-f-]+)");
    Future.all(a.port(), b.awaitLog(Pattern.compile("node (\\S+) \\(clustered\\) runs store")), b.awaitLog(STARTED_WITHOUT_API))
        .compose(started -> {
          ServiceUnderTest fb = ServiceUnderTest.at(vertx, started.<Integer>resultAt(0));
          String idB = started.<java.util.regex.Matcher>resultAt(1).group(1);
          return Poll.until(vertx, () -> outsideNodes(fb).map(ids -> ids.contains(idB)))
              .compose(v -> TestDatabase.truncate(vertx))
              .compose(v -> TestSite.start(vertx, 30))
              .compose(site -> crawlExactly(fb, site.slow(20), DEPTH).map(site))
              .compose(site -> fb.get("/metrics").compose(metrics -> a.readOutput().map(out -> {
                ctx.verify(() -> {
                  assertThat(site.maxInProgress()).as("requests at once at the site, owned by A in the split")
                      .isEqualTo(PER_HOST);
                  assertThat(metrics.bodyAsString()).contains("fetchbus_cluster_outside_nodes 1.0");
                  assertThat(outsideWarning.matcher(out).results().map(m -> m.group(1)).toList()).containsExactly(idB);
                });
                b.kill();
                return null;
              })))
              .compose(v -> Poll.until(vertx, () -> outsideNodes(fb).map(List::isEmpty)))
              .compose(v -> a.awaitLog(Pattern.compile("no node outside this cluster uses the database any more")));
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @Timeout(value = 150, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a node without the fetch, extract and store roles sends those requests to the live members that run "
      + "them: a member frozen by SIGSTOP, still registered and still counted alive by its heartbeats, costs one "
      + "timeout, after which its circuit is open, the requests that waited on it are answered by the other member, "
      + "and the next requests never wait on it")
  void apiNodeRoutesAroundAFrozenMember(VertxTestContext ctx) {
    Map<String, String> env = new HashMap<>(nodeEnv());
    // Heartbeats that say a frozen member is alive for the whole test: only the circuit can keep requests off it.
    env.put("FETCHBUS_CLUSTER_NODE_TIMEOUT_MS", "120000");
    env.put("FETCHBUS_CLUSTER_CIRCUIT_OPEN_MS", "120000");
    env.put("FETCHBUS_FETCH_TIMEOUT_MS", String.valueOf(ROUTED_TIMEOUT_MS));
    env.put("FETCHBUS_EXTRACT_TIMEOUT_MS", String.valueOf(ROUTED_TIMEOUT_MS));
    env.put("FETCHBUS_PG_REQUEST_TIMEOUT_MS", String.valueOf(ROUTED_TIMEOUT_MS));
    List<String> workerRoles = List.of("-cluster", "--roles", "store,fetch,extract");
    ServiceProcess b = processes.launch(vertx, "cluster-route-b", env, workerRoles);
    ServiceProcess[] nodes = new ServiceProcess[3];
    nodes[1] = b;
    List<Long> secondRoundMs = new CopyOnWriteArrayList<>();
    b.awaitLog(HAZELCAST_UP)
        .compose(up -> {
          nodes[2] = processes.launch(vertx, "cluster-route-c", env, workerRoles);
          nodes[0] = processes.launch(vertx, "cluster-route-a", env, List.of("-cluster", "--roles", "api"));
          return Future.all(nodes[0].port(), nodes[2].awaitLog(STARTED_WITHOUT_API), b.awaitLog(STARTED_WITHOUT_API));
        })
        .compose(started -> {
          ServiceUnderTest fb = ServiceUnderTest.at(vertx, started.<Integer>resultAt(0));
          return Poll.until(vertx, () -> clusterView(fb).map(v -> v.getJsonArray("fetchNodes").size() == 2))
              .compose(v -> Poll.until(vertx, () -> fb.get("/ready").map(r -> r.statusCode() == 200)))
              .compose(v -> Future.all(b.awaitLog(NODE_ID), nodes[2].awaitLog(NODE_ID)))
              .compose(ids -> {
                String idB = ids.<java.util.regex.Matcher>resultAt(0).group(1);
                String idC = ids.<java.util.regex.Matcher>resultAt(1).group(1);
                // A sends to both members once each has answered a ping at its address.
                return Future.all(nodes[0].awaitLog(Pattern.compile("member " + idB + " answers at its address")),
                        nodes[0].awaitLog(Pattern.compile("member " + idC + " answers at its address")))
                    .compose(v -> TestDatabase.truncate(vertx))
                    // The site belongs to B among the fetch nodes, so B serves what it is handed without asking C.
                    .compose(v -> siteOwnedBy(idB, List.of(idB, idC), 30))
                    .compose(site -> nodes[2].freeze()
                        // Half of these would wait on C without per-member routing, and fail with its timeouts.
                        .compose(frozen -> fetchAll(fb, site, 0, 6, null))
                        .compose(v -> fetchAll(fb, site, 6, 6, secondRoundMs))
                        .compose(v -> nodes[0].awaitLog(Pattern.compile("member " + idC + " .*circuit is open")))
                        .eventually(() -> nodes[2].thaw()));
              });
        })
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          assertThat(secondRoundMs).as("ms each request of the second round took").hasSize(6)
              .allMatch(ms -> ms < ROUTED_TIMEOUT_MS);
          ctx.completeNow();
        })));
  }

  /** Fetches pages {@code from}..{@code from+n-1} of {@code site} at once through {@code fb}: each must answer 201. */
  private Future<Void> fetchAll(ServiceUnderTest fb, TestSite site, int from, int n, List<Long> tookMs) {
    List<Future<Void>> all = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      String url = site.url("/p/" + i);
      long started = System.currentTimeMillis();
      all.add(fb.postFetch(new JsonObject().put("url", url)).map(resp -> {
        assertThat(resp.statusCode()).as("POST /v1/fetch of " + url + ": " + resp.bodyAsString()).isEqualTo(201);
        if (tookMs != null) {
          tookMs.add(System.currentTimeMillis() - started);
        }
        return null;
      }));
    }
    return Future.all(all).mapEmpty();
  }

  @Test
  @DisplayName("a crawl node frozen by SIGSTOP, while crawls are cancelled on the other: each cancelled crawl's "
      + "completed webhook is sent by a live crawl node, none is handed to the frozen one")
  void cancelledCrawlsEndWhileACrawlNodeIsFrozen(VertxTestContext ctx) {
    int jobs = 4;
    startCluster("cluster-ended", Map.of(), "crawl,fetch,extract")
        .compose(c -> Future.all(TestSite.start(vertx, 30), Receiver.start(vertx)).compose(started -> {
          TestSite site = started.resultAt(0);
          Receiver receiver = started.resultAt(1);
          site.hold();
          JsonObject webhook = new JsonObject().put("url", receiver.url("/hook"))
              .put("events", new JsonArray().add("completed"));
          return c.b().freeze()
              .compose(frozen -> {
                List<Future<String>> ids = new ArrayList<>();
                for (int i = 0; i < jobs; i++) {
                  ids.add(JobClient.crawl(c.fb(), crawlOf(site, DEPTH).put("webhook", webhook)));
                }
                return Future.all(ids).map(all -> all.<String>list());
              })
              // Every job is running on A (its seed held at the site), then cancelled through A's API.
              .compose(ids -> Future.all(ids.stream().map(id -> JobClient.await(c.fb(), "/v1/crawls/" + id,
                      job -> "running".equals(job.getString("status")))).toList())
                  .compose(v -> {
                    List<Future<Void>> cancels = new ArrayList<>();
                    for (String id : ids) {
                      cancels.add(c.fb().http.delete("/v1/crawls/" + id).send().map(resp -> {
                        assertThat(resp.statusCode()).as("cancel " + id).isEqualTo(200);
                        return null;
                      }));
                    }
                    return Future.all(cancels);
                  })
                  // Without a live crawl node chosen for it, about half of the jobs' ends wait on B while it is frozen.
                  .compose(v -> Poll.until(vertx, () -> Future.succeededFuture(receiver.received().size() >= jobs))
                      .timeout(ENDED_DEADLINE_S, TimeUnit.SECONDS))
                  .map(v -> {
                    ctx.verify(() -> {
                      List<String> ended = receiver.received().stream()
                          .map(r -> r.json().getString("jobId") + " " + r.json().getJsonObject("data").getString("status"))
                          .toList();
                      assertThat(ended).containsExactlyInAnyOrderElementsOf(ids.stream().map(id -> id + " cancelled").toList());
                    });
                    return null;
                  }))
              .eventually(() -> {
                site.release();
                return c.b().thaw();
              });
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @Timeout(value = 150, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a split from its first seconds: two clusters on one database, each with every role, crawl one site "
      + "(per-host limit 1) and are asked to fetch it through both APIs at once, before either could notice the "
      + "other: the site never sees two requests at once, the crawl completes exactly, and each fetch is a 201 from "
      + "the half that holds the origin's lease or a 503 from the other")
  void aSplitNeverDoublesThePerHostLimit(VertxTestContext ctx) throws IOException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(140); // before the test's timeout, to say why
    Map<String, String> env = new HashMap<>(nodeEnv());
    // The split check's default: neither half can know of the other for the first 10 s, when all of this happens.
    env.put("FETCHBUS_CLUSTER_SPLIT_CHECK_MS", "5000");
    env.put("FETCHBUS_FETCH_PER_HOST_CONCURRENCY", "1");
    ServiceProcess a = processes.launch(vertx, "cluster-split1-a", env,
        List.of("-cluster", "--roles", "api,store,crawl,extract,fetch"));
    Map<String, String> envB = new HashMap<>(env);
    envB.put("FETCHBUS_CLUSTER_CONFIG", newClusterConfig().toString());
    ServiceProcess b = processes.launch(vertx, "cluster-split1-b", envB,
        List.of("-cluster", "--roles", "api,store,crawl,extract,fetch"));
    List<Integer> statuses = new CopyOnWriteArrayList<>();
    Future.all(a.port(), b.port(), TestSite.start(vertx, 40))
        .compose(started -> {
          ServiceUnderTest fbA = ServiceUnderTest.at(vertx, started.<Integer>resultAt(0));
          ServiceUnderTest fbB = ServiceUnderTest.at(vertx, started.<Integer>resultAt(1));
          // Pages take 50 ms: the two halves' crawl verticles both claim the job's entries and would overlap.
          TestSite site = started.<TestSite>resultAt(2).slow(50);
          return TestDatabase.truncate(vertx)
              .compose(v -> Future.all(outsideNodes(fbA), outsideNodes(fbB)))
              .compose(seen -> {
                ctx.verify(() -> assertThat(seen.<List<Object>>resultAt(0)).as("nodes outside A's cluster, as A knows")
                    .isEmpty());
                List<Future<?>> load = new ArrayList<>();
                load.add(explainedIfLate(crawlExactly(fbA, site, DEPTH), deadline));
                for (int i = 0; i < 8; i++) {
                  for (ServiceUnderTest fb : List.of(fbA, fbB)) {
                    load.add(fb.postFetch(new JsonObject().put("url", site.url("/orphan/" + i)))
                        .onSuccess(resp -> statuses.add(resp.statusCode())));
                  }
                }
                return Future.all(load);
              })
              .map(done -> {
                ctx.verify(() -> {
                  assertThat(site.maxInProgress()).as("requests at once at the site, limit 1, split").isEqualTo(1);
                  assertThat(statuses).hasSize(16).allMatch(code -> code == 201 || code == 503);
                  assertThat(statuses).contains(201);
                });
                return null;
              });
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @Timeout(value = 240, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a node frozen until the cluster drops it, then thawed into a split that Hazelcast merges later, while a "
      + "crawl of the site it owned runs through all of it: the other node fetches the site once the frozen node's "
      + "origin lease has run out, the thawed node finds its leases gone and fetches nothing the other holds, the site "
      + "never sees more than the per-host limit at once, and the crawl completes exactly")
  void frozenUntilDroppedThenThawedIntoASplit(VertxTestContext ctx) throws IOException {
    // Hazelcast drops a silent member after 5 s here (60 s by default), so that a freeze makes a split quickly.
    clusterXml = newClusterConfig(Map.of("hazelcast.max.no.heartbeat.seconds", "5",
        "hazelcast.heartbeat.interval.seconds", "1"));
    Map<String, String> env = Map.of("FETCHBUS_CLUSTER_SPLIT_CHECK_MS", "500", "FETCHBUS_CRAWL_MAX_ATTEMPTS", "5");
    Pattern alone = Pattern.compile("Members \\{size:1,");
    startCluster("cluster-thaw", env, "store,crawl,fetch,extract")
        .compose(c -> siteOwnedBy(c.idB(), c.fetchNodes(), 150).compose(site -> {
          Set<String> expected = TestSite.pages(site.reachable(DEPTH, link -> true));
          // 150 pages of 300 ms at 2 at once: 20 s of fetching at the least, longer than the freeze and the thaw.
          site.slow(300);
          int[] requestsAtThaw = {0};
          return JobClient.crawl(c.fb(), crawlOf(site, DEPTH))
              .compose(id -> Poll.until(vertx, () -> TestDatabase.count(vertx,
                      "SELECT count(*) FROM frontier WHERE state = 'done'").map(done -> done >= 5))
                  .compose(v -> c.b().freeze())
                  // B is dropped by A's Hazelcast (A alone again: the second "Members {size:1"). Nothing here asks
                  // PostgreSQL: B may have frozen inside a frontier transaction, whose locks hold A's store up until
                  // B is thawed.
                  .compose(v -> awaitLogCount(c.a(), alone, 2))
                  .compose(v -> {
                    requestsAtThaw[0] = site.requested().size();
                    return c.b().thaw();
                  })
                  // A's split check sees B's connections to PostgreSQL from outside its cluster: a split.
                  .compose(v -> c.a().awaitLog(Pattern.compile("not members of this cluster: " + c.idB())))
                  .compose(v -> JobClient.finished(c.fb(), "/v1/crawls/" + id))
                  .compose(job -> CrawlChecks.exactPages(c.fb(), id, expected).map(job))
                  .compose(job -> c.b().awaitLog(Pattern.compile("origin buckets ran out before they were renewed"))
                      .map(lapsed -> {
                        ctx.verify(() -> {
                          assertThat(site.requested().size()).as("requests at the site, after B was thawed")
                              .isGreaterThan(requestsAtThaw[0]);
                          assertThat(job.getString("status")).isEqualTo("completed");
                          assertThat(job.getInteger("completed")).isEqualTo(expected.size());
                          assertThat(site.maxInProgress()).as("requests in progress at once at the site")
                              .isLessThanOrEqualTo(PER_HOST);
                        });
                        return null;
                      })));
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a client streaming a watch's events from node A sees the page.changed events of the runs node B does, "
      + "with their diffs")
  void watchEventsAcrossNodes(VertxTestContext ctx) {
    AtomicReference<String> page = new AtomicReference<>(watchedPage("The first version of the watched page."));
    Map<String, String> env = nodeEnv();
    env.put("FETCHBUS_WATCHES_POLL_MS", "3600000"); // no scheduler: the test runs the watch, on B
    List<String> everyRole = List.of("-cluster", "--roles", "api,store,crawl,extract,fetch");
    ServiceUnderTest[] api = new ServiceUnderTest[2];
    String[] id = new String[1];
    String[] url = new String[1];
    Buffer received = Buffer.buffer();
    ServiceProcess a = processes.launch(vertx, "cluster-watch-a", env, everyRole);
    vertx.createHttpServer()
        .requestHandler(req -> req.response().putHeader("Content-Type", "text/html; charset=utf-8").end(page.get()))
        .listen(0, "127.0.0.1")
        .compose(server -> {
          url[0] = "http://127.0.0.1:" + server.actualPort() + "/watched";
          return a.awaitLog(HAZELCAST_UP);
        })
        .compose(up -> {
          ServiceProcess b = processes.launch(vertx, "cluster-watch-b", env, everyRole);
          return Future.all(a.port(), b.port());
        })
        .compose(ports -> {
          api[0] = ServiceUnderTest.at(vertx, ports.<Integer>resultAt(0));
          api[1] = ServiceUnderTest.at(vertx, ports.<Integer>resultAt(1));
          return Poll.until(vertx, () -> clusterView(api[0]).map(v -> v.getJsonArray("fetchNodes").size() == 2))
              .compose(v -> TestDatabase.truncate(vertx))
              .compose(v -> api[0].http.post("/v1/watches").sendJsonObject(new JsonObject()
                  .put("urls", new JsonArray().add(url[0]))));
        })
        .compose(created -> {
          ctx.verify(() -> assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201));
          id[0] = created.bodyAsJsonObject().getString("id");
          return held(vertx.createHttpClient()).request(HttpMethod.GET, api[0].port, "127.0.0.1",
              "/v1/watches/" + id[0] + "/events").compose(HttpClientRequest::send);
        })
        .compose(stream -> {
          ctx.verify(() -> assertThat(stream.statusCode()).isEqualTo(200));
          stream.handler(received::appendBuffer);
          return Poll.until(vertx, () -> Future.succeededFuture(received.toString().contains(": watching " + id[0])));
        })
        // A's subscription reaches B's view of the cluster a moment after A registered it: B runs the watch (a new
        // version each time) until A has seen one of B's events.
        .compose(v -> runOnBUntilSeen(api[1], id[0], page, received, 1))
        .compose(v -> {
          int before = sseEvents(received).size();
          page.set(watchedPage("A rewritten version announces a new price of 42 euros for every plan of the year."));
          return api[1].http.post("/v1/watches/" + id[0] + "/run").send()
              .compose(run -> {
                ctx.verify(() -> {
                  assertThat(run.statusCode()).as(run.bodyAsString()).isEqualTo(200);
                  assertThat(run.bodyAsJsonObject().getJsonArray("results").getJsonObject(0).getString("changeStatus"))
                      .isEqualTo("changed");
                });
                return Poll.until(vertx, () -> Future.succeededFuture(sseEvents(received).size() > before));
              })
              .map(seen -> sseEvents(received).get(before));
        })
        .onComplete(ctx.succeeding(event -> ctx.verify(() -> {
          assertThat(received.toString()).contains("event: page.changed");
          assertThat(event.getString("watchId")).isEqualTo(id[0]);
          assertThat(event.getString("url")).isEqualTo(url[0]);
          assertThat(event.getString("changeStatus")).isEqualTo("changed");
          assertThat(event.getString("diff")).contains("+A rewritten version announces a new price of 42 euros");
          ctx.completeNow();
        })));
  }

  /** Runs the watch on B with a new version of the page each time, until A's stream has an event. */
  private Future<Void> runOnBUntilSeen(ServiceUnderTest b, String id, AtomicReference<String> page, Buffer received,
                                       int version) {
    if (version > 20) {
      return Future.failedFuture(new AssertionError("node A's stream saw none of 20 runs of node B"));
    }
    return b.http.post("/v1/watches/" + id + "/run").send()
        .compose(run -> {
          assertThat(run.statusCode()).as(run.bodyAsString()).isEqualTo(200);
          return vertx.timer(1_000);
        })
        .compose(t -> {
          if (!sseEvents(received).isEmpty()) {
            return Future.succeededFuture();
          }
          // Words never seen before: far beyond the threshold from the last version, so the run reports a change.
          page.set(watchedPage("Version " + version + " reads " + UUID.randomUUID().toString().replace('-', ' ')
              + " and " + UUID.randomUUID().toString().replace('-', ' ')));
          return runOnBUntilSeen(b, id, page, received, version + 1);
        });
  }

  private static String watchedPage(String paragraph) {
    return "<html><head><title>Watched</title></head><body><main><h1>Watched</h1><p>" + paragraph
        + "</p></main></body></html>";
  }

  /** The data of each event of an SSE stream so far. */
  private static List<JsonObject> sseEvents(Buffer received) {
    List<JsonObject> events = new ArrayList<>();
    for (String line : received.toString().split("\n")) {
      if (line.startsWith("data: ")) {
        events.add(new JsonObject(line.substring(6)));
      }
    }
    return events;
  }

  /** Once {@code pattern} has matched {@code n} times in the output of {@code p}. */
  private Future<Void> awaitLogCount(ServiceProcess p, Pattern pattern, int n) {
    return Poll.until(vertx, () -> p.readOutput().map(out -> pattern.matcher(out).results().count() >= n));
  }

  /** The ids of the nodes outside the cluster that A's /ready reports (its check "cluster"). */
  private static Future<List<Object>> outsideNodes(ServiceUnderTest fb) {
    return fb.get("/ready").map(resp -> {
      JsonArray checks = resp.bodyAsJsonObject().getJsonArray("checks", new JsonArray());
      for (int i = 0; i < checks.size(); i++) {
        JsonObject check = checks.getJsonObject(i);
        if ("cluster".equals(check.getString("id"))) {
          assertThat(check.getString("status")).isEqualTo("UP");
          return check.getJsonObject("data").getJsonArray("outsideNodes").getList();
        }
      }
      return List.of();
    });
  }

  /**
   * The crawl in the middle of its run on the owner B: the seed let through, pages done, and B's two slots for the
   * site taken by requests held at the site (the crawl's other requests for it wait in B's queue).
   */
  private Future<Void> midCrawl(TestSite site) {
    return Poll.until(vertx, () -> Future.succeededFuture(site.heldCount() >= 1))
        .compose(v -> {
          site.release();
          site.hold();
          return Poll.until(vertx, () -> TestDatabase.count(vertx, "SELECT count(*) FROM frontier WHERE state = 'done'")
              .compose(done -> CrawlChecks.leased(vertx).map(leased -> done >= 1 && leased >= 3
                  && site.heldCount() == PER_HOST)));
        });
  }
}
