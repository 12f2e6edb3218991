package io.fetchbus;

import io.fetchbus.api.ApiVerticle;
import io.fetchbus.bridge.BridgeVerticle;
import io.fetchbus.auth.OpenExposure;
import io.fetchbus.config.Settings;
import io.fetchbus.crawl.CrawlVerticle;
import io.fetchbus.bus.Bus;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.bus.WireBodies;
import io.fetchbus.config.ConfigLoader;
import io.fetchbus.ops.Meters;
import io.fetchbus.ops.LogFormat;
import io.fetchbus.config.EnvOverrides;
import io.fetchbus.config.Secrets;
import io.fetchbus.extract.ExtractVerticle;
import io.fetchbus.fetch.FetchVerticle;
import io.fetchbus.store.EmbeddedDatabase;
import io.fetchbus.store.NodePresence;
import io.fetchbus.store.StoreVerticle;
import io.vertx.core.Closeable;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.JsonArray;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the configuration and deploys the verticles of this node's {@link Roles} in dependency order: store,
 * extract, fetch, crawl, then the API, so that the API never answers before what it calls exists. Starts the
 * embedded PostgreSQL when the node has the store role and no {@code pg.url} is configured.
 *
 * <p>When Vert.x closes (the launcher does that on SIGTERM), it stops them in the reverse order, one after the
 * other, before Vert.x undeploys anything itself: see {@link #shutdown()}. (Undeploying this verticle alone,
 * without closing Vert.x, stops its children all at once, as Vert.x always does.)
 */
public final class MainVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(MainVerticle.class);

  /**
   * The launcher waits at most 2 minutes for Vert.x to close (then the JVM exits mid-shutdown): the grace period
   * leaves room for releasing leases and closing the pool after it.
   */
  static final long MAX_GRACE_MS = 100_000;

  private final Map<String, String> env;
  private EmbeddedDatabase embedded;
  /** This node's session in PostgreSQL when it lacks the store role (clustered, with pg.url); null otherwise. */
  private NodePresence presence;
  /** What this verticle deployed, in deployment order: the shutdown undeploys it from the end. */
  private NodeParts parts;
  private long graceMs;
  private Closeable shutdownHook;
  private Set<String> roles = Set.of();
  private final WireBodies wireBodies = new WireBodies();
  /** Clustered: gives the crawl leases of a member that left back to the frontier. */
  private ClusterMembers members;
  /** Clustered: sends the requests of roles this node lacks to live members that run them. */
  private MemberRouter router;


  public MainVerticle() {
    this(System.getenv());
  }

  /** For tests: the environment to read {@code FETCHBUS_*} overrides from. */
  public MainVerticle(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public Future<?> start() {
    parts = new NodeParts(vertx);
    return ConfigLoader.load(vertx, config(), env)
        .compose(cfg -> {
          // The layout is chosen first, so that everything logged from here on has it.
          LogFormat.use(Settings.string(cfg, "log", "format"));
          roles = Roles.of(cfg);
          String refusal = EventLoops.refusal(cfg);
          if (refusal == null && roles.contains(Roles.API)) {
            refusal = OpenExposure.refusal(cfg);
          }
          return refusal == null ? Future.succeededFuture(cfg) : Future.failedFuture(new IllegalStateException(refusal));
        })
        .map(cfg -> {
          graceMs = graceMs(cfg);
          // Whatever this node runs, nothing but data reaches it over the bus (no Java serialization).
          vertx.eventBus().addInboundInterceptor(wireBodies);
          // The cluster manager (its node id, nodes and ports) is reachable through VertxInternal only: Vert.x 5 has no
          // public accessor, and the launcher's builder keeps the instance it was given to itself.
          String nodeId = vertx.isClustered() ? ((VertxInternal) vertx).clusterManager().getNodeId() : UUID.randomUUID().toString();
          vertx.sharedData().getLocalMap(Bus.NODE_INFO).put(Bus.NODE_ID, nodeId);
          vertx.sharedData().getLocalMap(Bus.NODE_INFO).put(Bus.NODE_ROLES, String.join(",", roles));
          if (vertx.isClustered()) {
            publishClusterPorts();
          }
          cfg.put("roles", new JsonArray(List.copyOf(roles)));
          // -cluster may have come from the command line: the effective configuration says what this node is.
          cfg.getJsonObject("cluster").put("enabled", vertx.isClustered());
          return cfg;
        })
        .compose(cfg -> roles.contains(Roles.STORE) ? withDatabase(cfg) : Future.succeededFuture(cfg))
        // Clustered, the members are heard from before anything is deployed, so that the first requests find them.
        .compose(cfg -> !vertx.isClustered() ? Future.succeededFuture(cfg) : MemberRouter.start(vertx, cfg).map(r -> {
          router = r;
          Meters.of(vertx).memberRouting(r::openCircuits, r::rerouted);
          return cfg;
        }))
        // A clustered node without the store role that can reach the database shows there that it is alive.
        .compose(cfg -> !vertx.isClustered() || roles.contains(Roles.STORE)
            || Settings.string(cfg, "pg", "url").isBlank() ? Future.succeededFuture(cfg)
            : NodePresence.start(vertx, cfg).map(p -> {
              presence = p;
              return cfg;
            }))
        .compose(cfg -> {
          LOG.info("effective configuration: {}", Secrets.mask(cfg).encode());
          EnvOverrides.unknown(cfg, env).forEach(name -> LOG.warn("{} names no setting and is ignored", name));
          LOG.info("node {}{} runs {}", vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_ID),
              vertx.isClustered() ? " (clustered)" : "", String.join(",", roles));
          if (roles.contains(Roles.API)) {
            ApiVerticle.preload(vertx, cfg);
          }
          // In dependency order; a node deploys only its roles, and reaches the others' over the (clustered) bus.
          Future<String> chain = Future.succeededFuture();
          if (roles.contains(Roles.STORE)) {
            chain = chain.compose(v -> parts.deploy(StoreVerticle.class.getName(), cfg, NodeParts.instances(cfg, "store"),
                false, "the store", "its PostgreSQL pool closes"));
          }
          if (roles.contains(Roles.EXTRACT)) {
            chain = chain.compose(v -> parts.deploy(ExtractVerticle.class.getName(), cfg, NodeParts.perCore(cfg, "extract"), true, "extraction", ""));
          }
          if (roles.contains(Roles.FETCH)) {
            chain = chain.compose(v -> {
              FetchVerticle.preload(vertx, cfg);
              return parts.deploy(FetchVerticle.class.getName(), cfg, parts.perEventLoop(cfg, "fetch"), false, "fetching", "");
            });
          }
          if (roles.contains(Roles.CRAWL)) {
            // One crawl verticle per node is plenty: it only coordinates; the fetch and extract verticles do the work.
            chain = chain.compose(v -> parts.deploy(CrawlVerticle.class.getName(), cfg, NodeParts.instances(cfg, "crawl"),
                false, "crawling", "no new claims; crawl fetches in flight finish, then this node's leases are released"));
          }
          if (roles.contains(Roles.API)) {
            chain = chain.compose(v -> parts.deployApi(cfg, 3));
            // The bridge is the API's door for other languages, so it comes with the api role. Last, so that it
            // stops first: its clients reach the same verticles the API does.
            if (Settings.bool(cfg, "bridge", "enabled")) {
              chain = chain.compose(v -> parts.deploy(BridgeVerticle.class.getName(), cfg, 1, false,
                  "the TCP bridge", "its port closes and its clients are disconnected"));
            }
          }
          // Once every verticle is up, the node takes requests from the others and says it is alive.
          return chain
              .compose(v -> router == null ? Future.succeededFuture() : router.announce(parts.eventLoops()))
              .onSuccess(v -> {
                watchMembers(cfg);
                // A close hook of Vert.x itself runs before Vert.x undeploys any verticle, and Vert.x undeploys
                // the children of this verticle all at once, in no order: so the ordered shutdown starts here.
                // addCloseHook is internal API (the launcher registers its own hook the same way).
                shutdownHook = completion -> context.runOnContext(x -> shutdown().onComplete(completion));
                ((VertxInternal) vertx).addCloseHook(shutdownHook);
                vertx.sharedData().getLocalMap(Bus.NODE_INFO).remove(Bus.NODE_SHUTDOWN_DEADLINE);
                vertx.sharedData().getLocalMap(Bus.NODE_INFO).put(Bus.NODE_DEPLOYED, true);
                if (roles.contains(Roles.API)) {
                  LOG.info("Fetchbus listening on http://{}:{}", cfg.getJsonObject("http").getString("host"),
                      vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_HTTP_PORT));
                } else {
                  LOG.info("Fetchbus started without the api role: no HTTP port");
                }
              });
        });
  }

  /**
   * Stops the node in the reverse order of its start, each part after the one before has stopped: first
   * {@code /ready} turns red, then the API stops taking requests and finishes those in progress, the crawl stops
   * claiming, lets its fetches in flight finish and gives this node's leases back to the frontier, then fetch,
   * extract, and last the store closes its pool. The API and the crawl drain until the same deadline,
   * {@code shutdown.graceMs} after the start. A part that fails to stop is logged, and the next one stops anyway.
   */
  Future<Void> shutdown() {
    long started = System.currentTimeMillis();
    LocalMap<Object, Object> node = vertx.sharedData().getLocalMap(Bus.NODE_INFO);
    node.remove(Bus.NODE_DEPLOYED);
    node.put(Bus.NODE_SHUTDOWN_DEADLINE, started + graceMs);
    if (router != null) {
      router.leave(); // the others send this node nothing new; what it has, it finishes
    }
    LOG.info("shutting down: /ready is red; work in progress has {} ms (shutdown.graceMs) to finish", graceMs);
    Future<Void> chain = parts.stopInReverse();
    // Last, once the crawl has given its leases back: from now on they may be released for this node.
    chain = chain.compose(v -> presence == null ? Future.<Void>succeededFuture() : presence.stop());
    return chain.onComplete(v -> {
      LOG.info("shut down in {} ms", System.currentTimeMillis() - started);
    });
  }

  @Override
  public Future<?> stop() {
    if (members != null) {
      members.stop();
    }
    if (router != null) {
      router.stop();
    }
    if (shutdownHook != null) {
      // Internal API, as addCloseHook above: Vert.x 5 has no public close hook.
      ((VertxInternal) vertx).removeCloseHook(shutdownHook);
    }
    if (presence != null) {
      presence.stop();
    }
    vertx.eventBus().removeInboundInterceptor(wireBodies);
    vertx.sharedData().getLocalMap(Bus.NODE_INFO).remove(Bus.NODE_DEPLOYED);
    // Child verticles are undeployed before this runs, so nothing uses the database any more.
    if (embedded == null) {
      return Future.succeededFuture();
    }
    LOG.info("stopping the embedded PostgreSQL");
    return vertx.executeBlocking(() -> {
      embedded.close();
      return null;
    }).onSuccess(v -> LOG.info("stopped the embedded PostgreSQL"));
  }

  /** Clustered with Hazelcast: from now on, a member that leaves has its crawl leases released ({@link ClusterMembers}). */
  private void watchMembers(JsonObject cfg) {
    // The cluster manager is reachable through VertxInternal only (Vert.x 5 has no public accessor for it).
    if (vertx.isClustered() && ((VertxInternal) vertx).clusterManager() instanceof HazelcastClusterManager hazelcast
        && hazelcast.getHazelcastInstance() != null) {
      members = new ClusterMembers(vertx, context, hazelcast.getHazelcastInstance(), cfg);
      members.start();
    }
  }

  /** The cluster's ports on this node: like every port of the node, never a fetch's destination (see the guard). */
  private void publishClusterPorts() {
    // Internal API: the cluster manager's NodeInfo (the event bus's port) has no public accessor in Vert.x 5.
    ClusterManager cluster = ((VertxInternal) vertx).clusterManager();
    LocalMap<Object, Object> node = vertx.sharedData().getLocalMap(Bus.NODE_INFO);
    NodeInfo eventBus = cluster.getNodeInfo();
    if (eventBus != null) {
      node.put(Bus.NODE_CLUSTER_PORT, eventBus.port());
    }
    if (cluster instanceof HazelcastClusterManager hazelcast && hazelcast.getHazelcastInstance() != null) {
      node.put(Bus.NODE_CLUSTER_MEMBER_PORT,
          hazelcast.getHazelcastInstance().getCluster().getLocalMember().getAddress().getPort());
    }
  }

  /** With no {@code pg.url}, starts the embedded server (blocking work, so on a worker thread) and points at it. */
  private Future<JsonObject> withDatabase(JsonObject cfg) {
    if (!Settings.string(cfg, "pg", "url").isBlank()) {
      return Future.succeededFuture(cfg);
    }
    Path dir = Path.of(Settings.string(cfg, "pg.embedded", "dataDir")).toAbsolutePath();
    int port = Settings.number(cfg, "pg.embedded", "port").intValue();
    LOG.info("pg.url is not set: starting the embedded PostgreSQL with its data in {}", dir);
    return vertx.executeBlocking(() -> EmbeddedDatabase.start(dir, port))
        .map(db -> {
          embedded = db;
          cfg.getJsonObject("pg").put("url", db.url());
          vertx.sharedData().getLocalMap(Bus.NODE_INFO).put(Bus.NODE_EMBEDDED_PG_PORT, db.port());
          return cfg;
        });
  }

  /** {@code shutdown.graceMs}, checked: the launcher's own wait bounds it. */
  static long graceMs(JsonObject cfg) {
    long ms = Settings.graceMs(cfg);
    if (ms < 0 || ms > MAX_GRACE_MS) {
      throw new IllegalArgumentException("shutdown.graceMs must be between 0 and " + MAX_GRACE_MS
          + ": the launcher waits at most 120 s for the whole shutdown");
    }
    return ms;
  }


}
