package io.fetchbus.bus;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every event-bus address Fetchbus serves or publishes: the whole contract in one place.
 * Bodies are {@code JsonObject}s (cluster- and bridge-safe); the records in this package type both ends.
 * FailureReplies are {@code ReplyException}s whose failure code is the HTTP status, see {@link Failure}.
 * <p>
 * In a cluster every request/reply address is served by each node that runs its role ({@link #roleServing}): a node
 * that runs it serves its own requests, and one that does not sends them to a live member that runs it
 * ({@link MemberRouter}); the fetch of an origin another fetch node owns crosses nodes on {@link #FETCH_NODE_PREFIX}.
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
   * ({@link ContentFormats}); 400 for an unknown format. Runs on worker threads.
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
  /**
   * {@code {"ids": [id]}} (1 to 500) -> {@code {"items": [{"id","requestHead","responseHead","peerIp","body"}]}}: what
   * the WARC export writes of each page that has a body, in no order; the heads are null for a page stored without
   * them. The bodies asked for at once may weigh {@link PageQuery#MAX_CONTENT_BYTES} at most (one page any size).
   */
  public static final String PAGES_CAPTURES = "fetchbus.pages.captures";
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
  /**
   * {@code {"url", "search"?, "limit"?, "includeSubdomains"?, "ignoreQueryParameters"?, "sitemap"?, "timeoutMs"?}}
   * -> {@code {"links": [url]}}: the URLs of a site from its page's links and its sitemaps, stored nowhere.
   */
  public static final String SITE_MAP = "fetchbus.site.map";
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
   * {@link CrawlJob} -> {}: a job ended outside the crawl loop, by a cancel. Sent by the store to one crawl verticle,
   * this node's own when it runs the crawl role, else a live crawl member's ({@link MemberRouter}); it answers once
   * it has queued the job's final webhook event, whose delivery id depends only on the job and the event, so that a
   * second copy (a retry after a member froze, then woke) is one a receiver drops.
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
   * Watches: URLs, or the pages of a site, checked on an adaptive schedule for changes of their main text.
   * {@code {"spec": {"urls" or "crawl" (a crawl spec: each run is a crawl job), "minIntervalSeconds"?, "maxIntervalSeconds"?, "intervalSeconds"?, "cron"?, "include"?, "exclude"?, "threshold"?,
   * "formats"?, "webhook"?}, "keyName"?}} -> the watch ({@code {"id", "urls": [...], "intervalSeconds", "nextAt", ...}}); 400
   * names the invalid field, 429 past {@code watches.maxPerKey}. Served by the crawl role, which validates it.
   */
  public static final String WATCHES_CREATE = "fetchbus.watches.create";
  /**
   * {@code {"id", "keyName"?}} -> the watch with the last state of each URL; 404 for an unknown id or another key's
   * (every watch request but create takes {@code keyName}: the key whose watches it may see, none for those made
   * without a key).
   */
  public static final String WATCHES_GET = "fetchbus.watches.get";
  /** {@code {"limit"?, "after"?, "keyName"?}} -> {@code {"items": [watch], "next": cursor|null}}, newest first. */
  public static final String WATCHES_LIST = "fetchbus.watches.list";
  /** {@code {"id"}} -> {@code {"deleted": true}}: the watch, its URLs' state and its versions; 404 if unknown. */
  public static final String WATCHES_DELETE = "fetchbus.watches.delete";
  /**
   * {@code {"id", "url"?, "limit"?, "after"?}} -> {@code {"items": [{"id","url","changeStatus","status","distance",
   * "diff","diffTruncated","addedLinks","removedLinks","checkedAt","pageId"}], "next"}}: the versions that differed,
   * newest first, each with the id of the page it was stored as (null once that page was deleted).
   */
  public static final String WATCHES_CHANGES = "fetchbus.watches.changes";
  /**
   * {@code {"id"}} -> {@code {"id", "intervalSeconds", "nextAt", "results": [{"url","changeStatus","status","distance",
   * "pageId","error"}]}} (pageId: the page a new version was stored as):
   * runs the watch now, whatever its schedule, and answers when the run is recorded; 409 while another run holds it.
   */
  public static final String WATCHES_RUN = "fetchbus.watches.run";
  /**
   * Published once per URL a run found new, changed or removed: the {@code page.changed} webhook event's data, with
   * the {@code pageId} of the page the version was stored as.
   */
  public static final String WATCH_CHANGED = "fetchbus.watch.changed";
  /** {@code {"spec", "keyName"?, "maxPerKey"}} -> the watch: the store's half of {@link #WATCHES_CREATE}. */
  public static final String WATCHES_INSERT = "fetchbus.watches.insert";
  /**
   * {@code {"owner", "leaseMs", "limit"}} or {@code {"owner", "leaseMs", "id"}} -> {@code {"items": [watch with
   * "leaseToken", its secret and each URL's stored text]}}: leases due watches (or that one, 409 when leased).
   */
  public static final String WATCHES_CLAIM = "fetchbus.watches.claim";
  /**
   * {@code {"id", "leaseToken", "intervalSeconds", "maxVersions", "urls": [...], "changes": [...], "forget"?:
   * [position]}} -> the run's watch: records a run and ends its lease; 409 (lease-lost) when the lease went to another
   * node. A site watch's run adds the URLs it reached first (a state with {@code "added": true} and its url).
   */
  public static final String WATCHES_RECORD = "fetchbus.watches.record";
  /**
   * {@code {"id", "leaseToken", "leaseMs"}} -> {@code {"renewed": bool}}: a run still under way extends its lease,
   * so that no other node runs the watch meanwhile; false when the lease went to another node.
   */
  public static final String WATCHES_RENEW = "fetchbus.watches.renew";

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
   * Published by every clustered node every {@code cluster.heartbeatMs} once it is deployed: {@code {"node",
   * "roles"}} (its id and the roles it runs, comma-separated); {@code {"node", "leaving": true}} once when it begins
   * to shut down. How a node knows which live members serve a role ({@link MemberRouter}).
   */
  public static final String MEMBERS = "fetchbus.members";
  /**
   * The address of one member, {@code <prefix><node id>} ({@link #member}): a request for any address of a role that
   * member runs, named by the header {@link #ROUTED_ADDRESS}, which it hands to its own verticles and whose answer it
   * relays ({@link MemberRouter}). Not for other clients.
   */
  public static final String MEMBER_PREFIX = "fetchbus.member.";
  /**
   * {@code {"node", "leaseMs", "acquire": [bucket], "renew": [{"bucket", "token"}], "release": [{"bucket", "token"}]}}
   * -> {@code {"leases": [{"bucket", "node", "token", "untilMs", "msLeft"}]}}: one round of a fetch node's origin
   * leases, served by the store (not for other clients). Its releases and renewals take effect under its own tokens
   * only; it acquires a bucket ({@link Rendezvous#bucket}) nobody holds, whose lease ran out, or that it holds
   * already. The answer names the holder of every bucket renewed or asked for, after the round, and when its lease
   * ends by PostgreSQL's clock (epoch ms, and ms from now). A clustered fetch node sends a request to an origin only
   * while it holds the lease of its bucket.
   */
  public static final String ORIGIN_LEASES = "fetchbus.origin.leases";

  /**
   * Message header carrying the id of the REST request (its {@code X-Request-Id}) a message does work for, so
   * the verticles that do the work can log it.
   */
  public static final String REQUEST_ID = "x-request-id";
  /** Header on a request a fetch node forwarded to the origin's owner: the sender's node id. */
  public static final String FORWARDED = "x-fetchbus-forwarded";
  /**
   * Header on a forwarded request that is the target of a redirect: how many redirects the sender followed to it (they
   * count against {@code fetch.maxRedirects} there). In cluster mode only the holder of an origin's lease may send it
   * a request, so a redirect to another node's origin is followed by that node.
   */
  public static final String REDIRECTS = "x-fetchbus-redirects";
  /** Header on a request sent to {@link #member}: the address it is for. */
  public static final String ROUTED_ADDRESS = "x-fetchbus-address";
  /** Header on a request sent to {@link #member}: the sender's timeout in ms, which the member waits for its answer. */
  public static final String ROUTED_TIMEOUT = "x-fetchbus-timeout";

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
   * its own verticles, never to another member ({@link MemberRouter}).
   */
  public static final String NODE_ROLES = "roles";
  /**
   * Clustered, in {@link #NODE_INFO} while there are any: the ids (comma-separated) of nodes connected to this
   * node's PostgreSQL that are not members of its cluster, the other half of a split above all. Shown by
   * {@code /ready}.
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

  /** The role whose verticles serve each request/reply address. */
  private static final Map<String, String> ROLE = Map.ofEntries(
      Map.entry(FETCH, "fetch"), Map.entry(FETCH_CACHE_STATS, "fetch"), Map.entry(WEBHOOK_DELIVER, "fetch"),
      Map.entry(EXTRACT, "extract"),
      Map.entry(PAGES_SAVE, "store"), Map.entry(PAGES_GET, "store"), Map.entry(PAGES_CONTENT, "store"),
      Map.entry(PAGES_REVALIDATED, "store"), Map.entry(PAGES_FIND, "store"), Map.entry(PAGES_SEARCH, "store"),
      Map.entry(PAGES_CAPTURES, "store"),
      Map.entry(PAGES_DELETE, "store"), Map.entry(STORE_PING, "store"), Map.entry(JOBS_CREATE, "store"),
      Map.entry(JOBS_WEBHOOK, "store"),
      Map.entry(CRAWL_STATUS, "store"), Map.entry(CRAWL_LIST, "store"), Map.entry(CRAWL_CANCEL, "store"),
      Map.entry(CRAWL_ERRORS, "store"), Map.entry(FRONTIER_CLAIM, "store"),
      Map.entry(FRONTIER_COMPLETE, "store"), Map.entry(FRONTIER_RETRY, "store"),
      Map.entry(FRONTIER_RENEW, "store"), Map.entry(FRONTIER_RELEASE, "store"),
      Map.entry(FRONTIER_REAP, "store"), Map.entry(ORIGIN_LEASES, "store"),
      Map.entry(CRAWL_SUBMIT, "crawl"), Map.entry(SITE_MAP, "crawl"), Map.entry(CRAWL_ENDED, "crawl"), Map.entry(WEBHOOK_STATS, "crawl"),
      Map.entry(WATCHES_CREATE, "crawl"), Map.entry(WATCHES_RUN, "crawl"), Map.entry(WATCHES_GET, "store"),
      Map.entry(WATCHES_LIST, "store"), Map.entry(WATCHES_DELETE, "store"), Map.entry(WATCHES_CHANGES, "store"),
      Map.entry(WATCHES_INSERT, "store"), Map.entry(WATCHES_CLAIM, "store"), Map.entry(WATCHES_RECORD, "store"),
      Map.entry(WATCHES_RENEW, "store"));

  /**
   * The requests that may be sent a second time, to another member, when the first member did not answer in time
   * (it may have done the work, or may still do it when it wakes up): doing one twice leaves the same state as
   * doing it once.
   * <ul>
   * <li>reads: pages, searches, jobs, their errors and webhooks, the store's ping, the fetch cache's stats, site maps;
   * <li>{@link #FETCH}: a GET, which the web treats as safe to repeat; {@link #EXTRACT}: a pure function;
   * <li>{@link #PAGES_REVALIDATED}: sets a page's fetch time to now again; {@link #CRAWL_CANCEL}: a job cancelled
   *     once stays so; {@link #CRAWL_ENDED}: its webhook event has a delivery id of the job's (see there);
   * <li>{@link #FRONTIER_RENEW}, {@link #FRONTIER_RELEASE}, {@link #FRONTIER_REAP}: extending, returning or
   *     reaping leases twice finds nothing more the second time (but not a release with {@code "keep"}: a snapshot of
   *     the sender's leases, which a late second try would apply to leases claimed since);
   * <li>{@link #PAGES_SAVE} with a {@code fetchId} (a fetched page): the store keeps one page per fetch id. Without
   *     one (a failed attempt recorded), a second save is a second row: not retried.
   * </ul>
   * Not retried: {@link #JOBS_CREATE} and {@link #CRAWL_SUBMIT} (a second job), {@link #FRONTIER_CLAIM} (leases
   * nobody would work until they expire), {@link #FRONTIER_COMPLETE} and {@link #FRONTIER_RETRY} (their lease token
   * fences them anyway, and the crawl writes them again itself until its lease ends), {@link #WEBHOOK_DELIVER} (the
   * webhook sender counts its attempts and decides), {@link #PAGES_DELETE} (a second try would find the pages gone
   * and answer that there were none).
   */
  private static final Set<String> IDEMPOTENT = Set.of(FETCH, FETCH_CACHE_STATS, EXTRACT, PAGES_GET, PAGES_CONTENT,
      PAGES_FIND, PAGES_CAPTURES, PAGES_SEARCH, PAGES_REVALIDATED, STORE_PING, JOBS_WEBHOOK, CRAWL_STATUS, CRAWL_LIST, CRAWL_ERRORS,
      CRAWL_CANCEL, CRAWL_ENDED, WEBHOOK_STATS, SITE_MAP, FRONTIER_RENEW, FRONTIER_RELEASE, FRONTIER_REAP,
      WATCHES_GET, WATCHES_LIST, WATCHES_CHANGES);

  /** The role that serves {@code address}, or null for an address that is not a Fetchbus request/reply address. */
  public static String roleServing(String address) {
    return ROLE.get(address);
  }

  /** Whether the request {@code body} to {@code address} may be sent again elsewhere (see {@link #IDEMPOTENT}). */
  public static boolean idempotent(String address, Object body) {
    if (address.equals(PAGES_SAVE)) {
      return body instanceof io.vertx.core.json.JsonObject page && page.getValue("fetchId") != null;
    }
    if (address.equals(FRONTIER_RELEASE)) {
      return !(body instanceof io.vertx.core.json.JsonObject release) || release.getValue("keep") == null;
    }
    return IDEMPOTENT.contains(address);
  }

  /** The address of one member: {@link #MEMBER_PREFIX} and its node id. */
  public static String member(String nodeId) {
    return MEMBER_PREFIX + nodeId;
  }

  /** The address of one fetch node: {@link #FETCH_NODE_PREFIX} and its id. */
  public static String fetchNode(String nodeId) {
    return FETCH_NODE_PREFIX + nodeId;
  }

  private Bus() {}
}
