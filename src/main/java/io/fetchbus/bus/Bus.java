package io.fetchbus.bus;

import java.util.List;

/**
 * Every event-bus address Fetchbus serves or publishes: the whole contract in one place.
 * Bodies are {@code JsonObject}s (cluster- and bridge-safe); the records in this package type both ends.
 * Failures are {@code ReplyException}s whose failure code is the HTTP status, see {@link Failure}.
 * <p>
 * In a cluster every request/reply address is served by each node that runs its role, and a node that runs it
 * serves its own requests ({@link NodeLocal}); only the fetch of an origin another fetch node owns crosses nodes,
 * on {@link #FETCH_NODE_PREFIX}.
 */
public final class Bus {
  /** {@link FetchRequest} -> {@link FetchResult} with the body. Fetches only; never stores. */
  public static final String FETCH = "fetchbus.fetch";
  /**
   * {@link FetchRequest} -> {@link FetchResult}, like {@link #FETCH}, addressed to the fetch node {@code <id>}
   * ({@link #fetchNode}): how a fetch node hands a request to the node that owns the URL's origin. Served there
   * and never forwarded again. Not for other clients.
   */
  public static final String FETCH_NODE_PREFIX = "fetchbus.fetch.node.";
  /**
   * Published by every fetch node every {@code cluster.heartbeatMs}: {@code {"node", "fetches", "inFlight"}} (its
   * id, upstream requests it started since it started, and those in flight now); {@code {"node", "leaving": true}}
   * once when it stops. The fetch nodes route by it; the API shows it ({@code GET /v1/cluster}).
   */
  public static final String FETCH_NODES = "fetchbus.fetch.nodes";
  /** {} -> {@code {"hits","misses","joins","entries","bytes","inFlight","upstreamInFlight"}}: a node's fetch cache. */
  public static final String FETCH_CACHE_STATS = "fetchbus.fetch.cache.stats";
  /**
   * {@code {"url","contentType","body","formats"?}} -> {@code {"title"}} plus one key per requested format
   * ({@link Formats}); 400 for an unknown format. Runs on worker threads.
   */
  public static final String EXTRACT = "fetchbus.extract";
  /** {@link SavePage} -> {@code {"page": Page, "created": bool}}; idempotent per {@code fetchId}. */
  public static final String PAGES_SAVE = "fetchbus.pages.save";
  /** {@code {"id"}} or {@code {"fetchId"}} -> {@link Page}; 404 when there is none. */
  public static final String PAGES_GET = "fetchbus.pages.get";
  /** {@code {"id"}} -> {@code {"contentType","body"}}: the stored body, byte for byte; 404 when none. */
  public static final String PAGES_CONTENT = "fetchbus.pages.content";
  /** {@code {"id"}} -> {@link Page}: a conditional fetch found the page unchanged (304), so it counts as fetched now. */
  public static final String PAGES_REVALIDATED = "fetchbus.pages.revalidated";
  /** {@link PageQuery} -> {@code {"items": [Page], "next": cursor|null}}, newest first. */
  public static final String PAGES_FIND = "fetchbus.pages.find";
  /** {@link SearchRequest} -> {@code {"items": [Page + "rank","snippet"], "next": cursor|null}}, most relevant first. */
  public static final String PAGES_SEARCH = "fetchbus.pages.search";
  /** {} -> {}: the store can run a query now; 503 when PostgreSQL cannot be reached (the readiness check). */
  public static final String STORE_PING = "fetchbus.store.ping";
  /**
   * {@code {"ids": [id]}} (1 to 500) or {@code {"jobId"}} -> {@code {"deleted": n}}: deletes pages, and each body no
   * other page uses; with {@code jobId}, every page of the job, in batches. Pages deleted are not searchable any more.
   */
  public static final String PAGES_DELETE = "fetchbus.pages.delete";
  /**
   * Published after pages were deleted: {@code {"pages": [{"id", "url", "fetchId"}]}}, so that every node's caches
   * drop them.
   */
  public static final String PAGES_DELETED = "fetchbus.pages.deleted";
  /** Published after every stored page: the {@link Page} record, without the body. */
  public static final String PAGE_STORED = "fetchbus.page.stored";
  /**
   * Published when a conditional fetch found a stored page unchanged ({@link #PAGES_REVALIDATED}): the {@link Page}
   * with its new {@code fetchedAt} and {@code revalidatedAt}, so that every node's record cache follows.
   */
  public static final String PAGE_REVALIDATED = "fetchbus.page.revalidated";

  /**
   * Crawl and batch jobs. {@code {"kind": "crawl"|"batch", "spec": {...}, "idempotencyKey"?, "keyName"?}} ->
   * {@link CrawlJob} plus {@code "created": bool}; 400 names the invalid field of the spec.
   */
  public static final String CRAWL_SUBMIT = "fetchbus.crawl.submit";
  /** {@code {"id"}} -> {@link CrawlJob}; 404 for an unknown id. */
  public static final String CRAWL_STATUS = "fetchbus.crawl.status";
  /** {@code {"id"}} -> {@link CrawlJob}: no new fetch starts for it, what was stored stays. Idempotent. */
  public static final String CRAWL_CANCEL = "fetchbus.crawl.cancel";
  /** {@code {"kind"?, "status"?, "limit"?, "after"?}} -> {@code {"items": [CrawlJob], "next": cursor|null}}, newest
   * first. */
  public static final String CRAWL_LIST = "fetchbus.crawl.list";
  /** {@code {"id", "after"?, "limit"?}} -> {@code {"items": [{"url","state","attempts","error","errorClass"}], "next"}}. */
  public static final String CRAWL_ERRORS = "fetchbus.crawl.errors";
  /** Published at most once a second per job while it runs, and on every change of state: a {@link CrawlJob}. */
  public static final String CRAWL_PROGRESS = "fetchbus.crawl.progress";
  /**
   * Sent point to point (one crawl verticle takes it) when a job ends outside the crawl loop, by a cancel: the
   * {@link CrawlJob}. The crawl verticle that takes it sends the job's final webhook.
   */
  public static final String CRAWL_ENDED = "fetchbus.crawl.ended";

  /**
   * {@link WebhookDelivery} -> {@code {"status"}}: one POST, behind the destination guard, to the address the guard
   * checked; redirects are not followed and the response body is discarded. {@code status} is whatever the
   * receiver answered, 2xx or not; no answer at all is a 403 (refused destination), 502 or 504. Never retried
   * here: the sender decides.
   */
  public static final String WEBHOOK_DELIVER = "fetchbus.webhook.deliver";
  /** {} -> {@code {"queued","inFlight","delivered","failed","dropped","attempts"}}: the webhook sender of one node. */
  public static final String WEBHOOK_STATS = "fetchbus.webhook.stats";

  /**
   * The frontier, served by the store for the crawl verticles of every node (not for other clients):
   * claim leases due entries, complete stores a page and its links under a valid lease, retry gives an entry
   * back (or ends it), renew extends leases, release returns a node's leases, reap returns expired ones.
   */
  public static final String JOBS_CREATE = "fetchbus.jobs.create";
  /** {@code {"id"}} -> {@code {"kind", "webhook": {...}|null}}: the job's webhook, its secret unmasked (crawl only). */
  public static final String JOBS_WEBHOOK = "fetchbus.jobs.webhook";
  public static final String FRONTIER_CLAIM = "fetchbus.frontier.claim";
  public static final String FRONTIER_COMPLETE = "fetchbus.frontier.complete";
  public static final String FRONTIER_RETRY = "fetchbus.frontier.retry";
  public static final String FRONTIER_RENEW = "fetchbus.frontier.renew";
  /**
   * {@code {"owner"}} -> {@code {"released"}}: a stopping crawl verticle's leases; {@code {"owner", "keep": [token],
   * "maxAttempts"}}: the leases of that owner except those it holds (a claim whose answer was lost took them);
   * or {@code {"node", "maxAttempts"}}: every lease of a node that left the cluster (lease owners are
   * {@code <node id>/<id>}), sent by the oldest member.
   */
  public static final String FRONTIER_RELEASE = "fetchbus.frontier.release";
  public static final String FRONTIER_REAP = "fetchbus.frontier.reap";

  /**
   * Message header carrying the id of the REST request (its {@code X-Request-Id}) a message does work for, so
   * the verticles that do the work can log it.
   */
  public static final String REQUEST_ID = "x-request-id";
  /** Header on a request a fetch node forwarded to the origin's owner: the sender's node id. */
  public static final String FORWARDED = "x-fetchbus-forwarded";

  /**
   * Not an address: the name of the Vert.x local map where this node publishes facts about itself, such as the
   * REST port it actually listens on under {@link #NODE_HTTP_PORT} (useful when {@code http.port} is 0).
   */
  public static final String NODE_INFO = "fetchbus.node";
  public static final String NODE_HTTP_PORT = "http.port";
  /** This node's id in {@link #NODE_INFO}: the cluster's node id when clustered, else a random UUID. */
  public static final String NODE_ID = "id";
  /**
   * The roles this node runs, comma-separated, in {@link #NODE_INFO}: a node sends the requests of a role it runs to
   * its own verticles, never round-robin to another member ({@link NodeLocal}).
   */
  public static final String NODE_ROLES = "roles";
  /**
   * Clustered, in {@link #NODE_INFO} while there are any: the ids (comma-separated) of nodes connected to this
   * node's PostgreSQL that are not members of its cluster, the other half of a split above all. Shown by
   * {@code /ready}; the fetch node shares each origin's limits with them.
   */
  public static final String NODE_OUTSIDE = "cluster.outside";
  /** The port the TCP event-bus bridge listens on, when it is enabled. */
  public static final String NODE_BRIDGE_PORT = "bridge.port";
  /** Clustered: the port of the event bus's own TCP server, which the other nodes send messages to. */
  public static final String NODE_CLUSTER_PORT = "cluster.eventBusPort";
  /** Clustered: the port Hazelcast, the cluster manager, listens on for its members. */
  public static final String NODE_CLUSTER_MEMBER_PORT = "cluster.memberPort";
  /** The port of the embedded PostgreSQL this node started, when {@code pg.url} is not set. */
  public static final String NODE_EMBEDDED_PG_PORT = "pg.embeddedPort";
  /**
   * The keys of {@link #NODE_INFO} that hold a port this node listens on: a fetch never reaches one of them on
   * a local address, whatever the destination guard's settings (the service must not be turned on itself).
   */
  public static final List<String> NODE_OWN_PORTS = List.of(NODE_HTTP_PORT, NODE_BRIDGE_PORT,
      NODE_CLUSTER_PORT, NODE_CLUSTER_MEMBER_PORT, NODE_EMBEDDED_PG_PORT);
  /** True in {@link #NODE_INFO} once every verticle of this node is deployed. */
  public static final String NODE_DEPLOYED = "deployed";
  /**
   * Put in {@link #NODE_INFO} when this node begins to shut down (and {@link #NODE_DEPLOYED} is removed): the
   * epoch millisecond by which its in-flight work must be finished ({@code shutdown.graceMs} after the start of
   * the shutdown). Its presence turns {@code /ready} red; the API and crawl verticles drain until then.
   */
  public static final String NODE_SHUTDOWN_DEADLINE = "shutdownDeadline";

  /** The address of one fetch node: {@link #FETCH_NODE_PREFIX} and its id. */
  public static String fetchNode(String nodeId) {
    return FETCH_NODE_PREFIX + nodeId;
  }

  private Bus() {}
}
