package io.fetchbus.fetch;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FailureReplies;
import io.fetchbus.bus.FetchRequest;
import io.fetchbus.bus.FetchResult;
import io.fetchbus.bus.HandedOverJson;
import io.fetchbus.bus.WebUrl;
import io.fetchbus.ops.Meters;
import io.fetchbus.webhook.WebhookPoster;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@link Bus#FETCH}: the cache first, then one upstream fetch through this instance's pooled client,
 * behind the destination guard, robots.txt and the politeness limiter shared by every instance. Serves
 * {@link Bus#WEBHOOK_DELIVER} too, through a {@link WebhookPoster}: outbound HTTP, and the guard, belong here.
 * <p>
 * In a cluster, each origin belongs to one fetch node ({@link FetchOwners}): a request for an origin another node
 * owns is forwarded to it ({@link Bus#fetchNode}) and its answer relayed, so the owner's limiter keeps the per-host
 * limits for the whole cluster. If the owner is gone (no handler, or it leaves the view while the request waits),
 * this node serves the request itself. In cluster mode a node fetches an origin only while it holds its lease in
 * PostgreSQL ({@link OriginLeases}): the other half of a split, or a node that stalled and came back, cannot fetch it
 * meanwhile (503).
 */
public final class FetchVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(FetchVerticle.class);

  /** A forwarded fetch may take the owner's whole deadline; this is the owner's margin for answering. */
  private static final long FORWARD_MARGIN_MS = 2_000;

  private HttpClientAgent client;
  private WebhookPoster poster;
  private HttpFetcher fetcher;
  private FetchCache cache;
  private HostLimiter limiter;
  private FetchSettings settings;
  private Meters meters;
  private FetchOwners owners;
  /** The answer, with the page's body, is handed to a requester of this JVM without a copy. */
  private final DeliveryOptions answer = HandedOverJson.handOver(new DeliveryOptions());

  /**
   * Makes the node's shared fetch state (cache, host limits, owners, robots rules) before its instances start,
   * so that none of them waits on a lock while another makes it (event loops were held 300-400 ms on a busy machine).
   */
  public static void preload(Vertx vertx, JsonObject config) {
    FetchSettings s = FetchSettings.from(config);
    FetchCache.shared(vertx, s);
    FetchOwners.shared(vertx, config, HostLimiter.shared(vertx, s));
    RobotsCache.shared(vertx, s);
  }

  @Override
  public Future<?> start() {
    settings = FetchSettings.from(config());
    HandedOverJson.register(vertx);
    client = vertx.createHttpClient(new HttpClientOptions()
            .setConnectTimeout(settings.connectTimeoutMs())
            .setKeepAlive(true)
            .setDecompressionSupported(true)
            .setMaxRedirects(0),
        new PoolOptions().setHttp1MaxSize(settings.maxConnectionsPerHost()).setMaxWaitQueueSize(settings.maxInFlight()));
    meters = Meters.of(vertx);
    cache = FetchCache.shared(vertx, settings);
    limiter = HostLimiter.shared(vertx, settings);
    owners = FetchOwners.shared(vertx, config(), limiter);
    RobotsCache robots = RobotsCache.shared(vertx, settings);
    FetchSettings.Guard g = settings.guard();
    AddressPolicy policy = new AddressPolicy(g.allowPrivateNetworks(), g.allow(), g.deny());
    return vertx.executeBlocking(FetchVerticle::localAddresses) // enumerating interfaces is a blocking system call
        .compose(own -> {
          // Made here, not in an onSuccess before this step: when the blocking call ends while the steps are being
          // added, that handler is queued and this step runs first, and the webhook consumer needs the poster.
          DestinationGuard guard = new DestinationGuard(vertx, policy, g.ports(), this::ownPorts, own, meters);
          fetcher = new HttpFetcher(vertx, context, client, settings, guard, limiter, robots, meters,
              vertx.isClustered() ? this::elsewhere : null);
          poster = new WebhookPoster(vertx, settings.connectTimeoutMs(), settings.maxInFlight(), webhookRoute(guard));
          return Future.all(
              vertx.eventBus().<JsonObject>consumer(Bus.fetchNode(owners.self()), this::serveForwarded).completion(),
              vertx.eventBus().<JsonObject>consumer(Bus.WEBHOOK_DELIVER, poster::deliver).completion(),
              vertx.eventBus().<JsonObject>consumer(Bus.PAGES_DELETED, msg -> {
                for (Object gone : msg.body().getJsonArray("pages", new JsonArray())) {
                  if (gone instanceof JsonObject page && page.getString("url") != null) {
                    cache.forget(page.getString("url"), page.getString("fetchId"));
                  }
                }
              }).completion(),
              vertx.eventBus().<JsonObject>consumer(Bus.FETCH_CACHE_STATS,
                  msg -> msg.reply(cache.stats().put("upstreamInFlight", limiter.inFlight()))).completion());
        })
        // Requests are taken once this node knows the other fetch nodes, so it does not fetch origins it does not own.
        .compose(v -> owners.start(context))
        .compose(v -> vertx.eventBus().<JsonObject>consumer(Bus.FETCH, this::fetch).completion());
  }

  @Override
  public Future<?> stop() {
    return Future.all(owners.stop(), client.close(), poster == null ? Future.succeededFuture() : poster.close());
  }

  private void fetch(Message<JsonObject> msg) {
    FetchRequest req = request(msg);
    if (req == null) {
      return;
    }
    String origin = req.url().origin();
    String owner = owners.ownerOf(origin);
    if (msg.headers().contains(Bus.FORWARDED) || owners.self().equals(owner)) {
      serve(msg, req);
    } else {
      owners.forward(msg, owner, settings.timeoutMs() + FORWARD_MARGIN_MS, context, () -> serve(msg, req));
    }
  }

  /**
   * A request another fetch node forwarded here, the owner of its origin: served, never forwarded again. With
   * {@link Bus#REDIRECTS}, it is the target of a redirect that node followed so far.
   */
  private void serveForwarded(Message<JsonObject> msg) {
    FetchRequest req = request(msg);
    if (req != null) {
      serve(msg, req);
    }
  }

  /** {@link HttpFetcher.Elsewhere}: a redirect's target fetched by the owner of its origin, unless that is this node. */
  private Future<FetchResult> elsewhere(WebUrl url, int redirects, boolean obeyRobots, int perHost,
                                        long timeoutMs) {
    String owner = owners.ownerOf(url.origin());
    if (owner.equals(owners.self())) {
      return null;
    }
    JsonObject body = new FetchRequest(url, null, false, obeyRobots, perHost, null, null).toJson();
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(timeoutMs + FORWARD_MARGIN_MS)
        .addHeader(Bus.REDIRECTS, String.valueOf(redirects));
    return owners.ask(owner, body, options, context).map(FetchResult::from);
  }

  /** The message's fetch request, or null once the message has been answered with why it is not one (400). */
  private static FetchRequest request(Message<JsonObject> msg) {
    try {
      return FetchRequest.from(msg.body());
    } catch (RuntimeException e) {
      FailureReplies.reply(msg, e);
      return null;
    }
  }

  private void serve(Message<JsonObject> msg, FetchRequest req) {
    HttpFetcher.Options options = fetcher.defaults(req.obeyRobots(), req.maxConcurrency())
        .afterRedirects(redirectsBefore(msg));
    // A conditional fetch answers for one stored copy: it is neither served from nor kept in the cache.
    Future<FetchResult> fetched = req.conditional()
        ? meters.fetch(() -> fetcher.fetch(req.url(), options.conditional(req.ifNoneMatch(), req.ifModifiedSince())))
        : cache.get(req, context, () -> meters.fetch(() -> fetcher.fetch(req.url(), options)));
    String requestId = msg.headers().get(Bus.REQUEST_ID);
    fetched
        .onSuccess(result -> {
          LOG.debug("fetched {} -> {} {} bytes in {} ms{} [request {}]", req.url(), result.status(), result.bytes(),
              result.elapsedMs(), result.fromCache() ? " (from cache)" : "", requestId);
          msg.reply(handedOver(result), HandedOverJson.answering(msg, answer));
        })
        .onFailure(err -> {
          LOG.debug("fetch {} failed: {} [request {}]", req.url(), err.getMessage(), requestId);
          FailureReplies.reply(msg, err);
        });
  }

  /**
   * A fetch result as the requester gets it, not copied: the cache may keep {@code result} for the next requests, so
   * the requester gets JSON objects of its own for the headers and timings (a few entries), and shares only the
   * body, which nobody writes to.
   */
  private static JsonObject handedOver(FetchResult result) {
    JsonObject json = result.toJson();
    return json.put("headers", result.headers() == null ? null : result.headers().copy())
        .put("timing", result.timing() == null ? null : result.timing().copy());
  }

  /** The redirects another fetch node followed before it handed this request here ({@link Bus#REDIRECTS}), else 0. */
  private int redirectsBefore(Message<JsonObject> msg) {
    String value = msg.headers().get(Bus.REDIRECTS);
    if (value == null || !msg.headers().contains(Bus.FORWARDED) || !value.matches("\\d{1,3}")) {
      return 0;
    }
    return Math.min(Integer.parseInt(value), settings.maxRedirects());
  }

  /** Webhook POSTs go through the same guard as fetches, to the address it checked, with the fetches' settings. */
  private WebhookPoster.Route webhookRoute(DestinationGuard guard) {
    return new WebhookPoster.Route() {
      @Override
      public Future<RequestOptions> post(WebUrl url) {
        return guard.check(url).map(server -> HttpFetcher.guardedRequest(HttpMethod.POST, url, server, settings)
            .setIdleTimeout(settings.idleTimeoutMs()));
      }

      @Override
      public ReplyException failure(WebUrl url, Throwable err) {
        return UpstreamErrors.classify(url, err, settings);
      }
    };
  }

  /**
   * The ports this node listens on now, as its parts published them ({@link Bus#NODE_OWN_PORTS}); before the API
   * has published its port, or on a node without the api role, the configured {@code http.port} stands for it.
   */
  private Set<Integer> ownPorts() {
    var node = vertx.sharedData().getLocalMap(Bus.NODE_INFO);
    Set<Integer> ports = new HashSet<>();
    for (String key : Bus.NODE_OWN_PORTS) {
      if (node.get(key) instanceof Integer port && port > 0) {
        ports.add(port);
      }
    }
    if (!(node.get(Bus.NODE_HTTP_PORT) instanceof Integer)) {
      ports.add(settings.ownHttpPort());
    }
    return ports;
  }

  /** The addresses of this machine, so the guard can refuse fetching the service itself on any of them. */
  private static Set<InetAddress> localAddresses() throws SocketException {
    Set<InetAddress> out = new HashSet<>();
    for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      out.addAll(Collections.list(nif.getInetAddresses()));
    }
    return out;
  }
}
