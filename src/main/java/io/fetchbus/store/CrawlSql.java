package io.fetchbus.store;

/** The SQL of crawl jobs and their frontier. Counters on crawl_jobs are kept by triggers (V5__crawl.sql). */
final class CrawlSql {
  private CrawlSql() {}

  static final String JOB_COLUMNS = "id::text AS id, kind, state, spec, queued, leased, done, failed, robots, "
      + "skipped, created_at, started_at, finished_at";

  /**
   * Holds the submissions of one submitter ($1: an API key's name, '' for none) one after the other until the
   * transaction ends, so that its quota and its idempotency keys are checked against every job it made before.
   */
  static final String LOCK_SUBMITTER = "SELECT 1 AS locked FROM pg_advisory_xact_lock(hashtext('fetchbus.jobs/' || $1))";

  /** $7 is the depth bound (V11). */
  static final String INSERT_JOB = """
      INSERT INTO crawl_jobs (kind, spec, page_limit, key_name, idempotency_key, request_sha256, max_depth)
      VALUES ($1, $2, $3, $4, $5, $6, $7)
      RETURNING id::text AS id
      """;

  /** The job a submitter's ($1) idempotency key ($3) made on one endpoint ($2), and its request's hash. */
  static final String JOB_BY_IDEMPOTENCY_KEY = "SELECT " + JOB_COLUMNS + ", request_sha256 FROM crawl_jobs "
      + "WHERE COALESCE(key_name, '') = COALESCE($1, '') AND kind = $2 AND idempotency_key = $3";

  /** A submitter's ($1) queued and running jobs: what its quota counts. */
  static final String ACTIVE_JOBS_OF = "SELECT count(*) AS n FROM crawl_jobs "
      + "WHERE state IN ('queued', 'running') AND COALESCE(key_name, '') = COALESCE($1, '')";

  static final String JOB_BY_ID = "SELECT " + JOB_COLUMNS + " FROM crawl_jobs WHERE id = $1::uuid";

  /** Newest first; $1/$2 is the keyset cursor (created_at, id) or nulls, $3 a status or null, $5 a kind or null. */
  static final String LIST_JOBS = "SELECT " + JOB_COLUMNS + """
       FROM crawl_jobs
      WHERE ($1::timestamptz IS NULL OR (created_at, id) < ($1, $2::uuid))
        AND ($3::text IS NULL OR state = $3)
        AND ($5::text IS NULL OR kind = $5)
      ORDER BY created_at DESC, id DESC LIMIT $4
      """;

  /**
   * New URLs of a job at one depth and their hosts, unless the job has ended; URLs it has deeper are lowered to
   * this depth, and the stored links of their pages followed from there (V11__shortest_depth.sql).
   */
  static final String ADD_URLS = "SELECT crawl_add_urls($1::uuid, $2::text[], $3::text[], $4::text[], $5)";

  /** Live jobs, the one served longest ago first, so that jobs take turns. */
  static final String LIVE_JOBS = """
      SELECT id::text AS id FROM crawl_jobs WHERE state IN ('queued', 'running')
      ORDER BY claimed_at NULLS FIRST LIMIT $1
      """;

  /**
   * Every transaction that changes a job's frontier takes this lock on the job before its first frontier change: its
   * counters change with every frontier change (the triggers), and taking the row lock first, always in the same
   * order, is what keeps concurrent claims, completions and reaps free of deadlocks. A completion writes its page
   * and body before it takes the lock: no transaction holding a job's lock waits for a page or body row. For a claim
   * it also means two nodes cannot both fill the job's last free places, nor go past its spec's
   * {@code maxConcurrency} together.
   */
  static final String LOCK_JOB = """
      SELECT state, page_limit - done - leased AS room, queued, leased,
        (spec->>'maxConcurrency')::int AS max_concurrency FROM crawl_jobs
      WHERE id = $1::uuid FOR NO KEY UPDATE
      """;

  /** The jobs with leases to reap ($1 null) or held by the owner $1, in id order: the order they are locked in. */
  static final String JOBS_WITH_LEASES = """
      SELECT DISTINCT job_id::text AS job_id FROM frontier
      WHERE state = 'leased' AND (CASE WHEN $1::text IS NULL THEN lease_until < now() ELSE lease_owner = $1 END)
      ORDER BY 1
      """;

  /**
   * Leases up to $3 due entries of a job, at most $4 per host, from the $5 hosts served longest ago, skipping
   * the hosts in $7 (this node has enough of them in flight). Those hosts go to the back of the line. The entries
   * picked are updated by ctid: they are locked, and no other transaction changes queued entries without the job's
   * lock, which the claim holds; by key, the update was planned as a scan of the job's whole frontier (see V14).
   */
  static final String CLAIM = """
      WITH hosts AS (
        SELECT host FROM crawl_hosts WHERE job_id = $1::uuid AND host <> ALL ($7::text[])
        ORDER BY claimed_at NULLS FIRST, host LIMIT $5
      ), picked AS (
        SELECT p.ctid FROM hosts h CROSS JOIN LATERAL (
          SELECT f.ctid, f.depth, f.next_at FROM frontier f
          WHERE f.job_id = $1::uuid AND f.host = h.host AND f.state = 'queued' AND f.next_at <= now()
          ORDER BY f.depth, f.next_at LIMIT $4
          FOR UPDATE SKIP LOCKED) p
        ORDER BY p.depth, p.next_at LIMIT $3
      ), rotated AS (
        UPDATE crawl_hosts c SET claimed_at = clock_timestamp() FROM hosts h
        WHERE c.job_id = $1::uuid AND c.host = h.host
      )
      UPDATE frontier f SET state = 'leased', lease_owner = $2, lease_token = gen_random_uuid(),
        lease_until = now() + make_interval(secs => $6 / 1000.0), attempts = f.attempts + 1, updated_at = now()
      WHERE f.ctid = ANY (ARRAY(SELECT ctid FROM picked))
      RETURNING f.url_key, f.url, f.host, f.depth, f.attempts, f.lease_token::text AS token
      """;

  static final String MARK_CLAIMED = """
      UPDATE crawl_jobs SET claimed_at = clock_timestamp(),
        started_at = COALESCE(started_at, now()),
        state = CASE WHEN state = 'queued' AND $2 THEN 'running' ELSE state END
      WHERE id = $1::uuid RETURNING state
      """;

  /** Whatever is still queued when a job ends is skipped, with the reason. */
  static final String SKIP_QUEUED = """
      UPDATE frontier SET state = 'skipped', error = $2, updated_at = now()
      WHERE job_id = $1::uuid AND state = 'queued'
      """;

  static final String FINISH_JOB = """
      UPDATE crawl_jobs SET state = $2, finished_at = now(), started_at = COALESCE(started_at, now())
      WHERE id = $1::uuid AND state IN ('queued', 'running')
      RETURNING id
      """;

  /**
   * Completes a leased entry with its page in one statement: the body and the page row first, then, for the page
   * returned, {@code crawl_complete} (V8__crawl_complete.sql) under the job's lock, whose commit follows on the
   * server without another round trip. $1..$27 are {@link PageRows#insertParams} ($23 the job); $28 the entry's
   * URL key, $29 its lease token, $30..$32 the keys, URLs and hosts of its links, $33 null: the links go one level
   * below the entry's depth as the frontier has it then, within the job's maxDepth, and are kept for a shorter
   * path found later (V11). A lost lease fails it with SQLSTATE {@link #LEASE_LOST}, and nothing is stored.
   */
  static final String COMPLETE_WITH_PAGE = "WITH body AS (" + Sql.INSERT_BODY + " RETURNING 1), page AS ("
      + Sql.INSERT_PAGE_ROW + " RETURNING " + Sql.PAGE_COLUMNS + ") SELECT page.*, "
      + "crawl_complete($23::uuid, $28, $29::uuid, page.id, $30::text[], $31::text[], $32::text[], $33) AS completed "
      // Read here so that the body goes in before crawl_complete runs: PostgreSQL runs a data-modifying WITH that
      // nothing reads after the statement, which would wait for a body row while holding the job's lock.
      + "FROM page CROSS JOIN (SELECT count(*) FROM body) AS written";

  /**
   * Of a batch of completions of job $1, the entries ($2 their URL keys, $3 their lease tokens) whose lease is still
   * theirs. A read without locks, before the job's lock is taken ({@link CrawlCompletions}): the pages of leases lost
   * by then are not written; {@code crawl_complete_pages} checks again under the lock. A LATERAL probe per entry, so
   * that each is one lookup of the primary key whatever the planner believes of the job's size (see V14).
   */
  static final String HELD_LEASES = """
      SELECT f.url_key FROM unnest($2::text[], $3::uuid[]) AS e (k, t)
      CROSS JOIN LATERAL (SELECT url_key FROM frontier WHERE job_id = $1::uuid AND url_key = e.k
                            AND lease_token = e.t AND state = 'leased' OFFSET 0) f
      """;

  /** A crawled page, body and row, with the parameters of {@link PageRows#insertParams}; no row if its fetch id is in. */
  static final String INSERT_PAGE_FOR_JOB = "WITH body AS (" + Sql.INSERT_BODY + ") " + Sql.INSERT_PAGE_ROW
      + " RETURNING " + Sql.PAGE_COLUMNS;

  /**
   * Completes the entries $2 (lease tokens $3, pages $4) of job $1 with their links: the link at position n of $6..$8
   * (keys, URLs, hosts) belongs to the entry at position $5[n] (1-based). See {@code crawl_complete_pages} (V14): it
   * takes the job's lock and checks every lease under it, raising FB409 if one is lost (the lock-free check that
   * came before, {@link #HELD_LEASES}, may have been overtaken).
   */
  static final String COMPLETE_PAGES = "SELECT crawl_complete_pages($1::uuid, $2::text[], $3::uuid[], $4::bigint[], "
      + "$5::integer[], $6::text[], $7::text[], $8::text[]) AS completed";

  /** Completes the entry that was the job's sitemaps, which has no page: it is removed once its URLs are in at $7. */
  static final String COMPLETE_WITHOUT_PAGE =
      "SELECT crawl_complete($1::uuid, $2, $3::uuid, NULL, $4::text[], $5::text[], $6::text[], $7)";

  /**
   * Links whose scope the job's patterns could not decide within their page's regex budget: failed entries that are
   * never fetched, reported in the job's errors. $1 the job, $2..$4 the keys, URLs and hosts, $5 their depth, $6
   * the error. A URL already in the frontier keeps its entry. Run under the job's lock.
   */
  static final String INSERT_UNDECIDED = """
      INSERT INTO frontier (job_id, url_key, url, host, depth, state, error, error_class)
      SELECT $1::uuid, l.key, l.url, l.host, $5, 'failed', $6, 'regex-budget'
      FROM unnest($2::text[], $3::text[], $4::text[]) AS l (key, url, host)
      ON CONFLICT (job_id, url_key) DO NOTHING
      """;

  /** The SQLSTATE {@code crawl_complete} raises when the lease it was given is no longer the entry's. */
  static final String LEASE_LOST = "FB409";

  /**
   * Gives a leased entry back or ends it. $4 is the outcome: {@code retry} (queued again after $5 ms, or failed
   * once it had $8 attempts), {@code requeue} (queued again without counting the attempt: our own back-pressure,
   * not the URL's fault), {@code failed} or {@code robots} (final).
   */
  static final String RETRY = """
      UPDATE frontier SET
        state = CASE WHEN $4 IN ('failed', 'robots') THEN $4
                     WHEN $4 = 'retry' AND attempts >= $8 THEN 'failed' ELSE 'queued' END,
        attempts = CASE WHEN $4 = 'requeue' THEN greatest(attempts - 1, 0) ELSE attempts END,
        next_at = now() + make_interval(secs => $5 / 1000.0),
        lease_owner = NULL, lease_token = NULL, lease_until = NULL,
        error = $6, error_class = $7, updated_at = now()
      WHERE job_id = $1::uuid AND url_key = $2 AND lease_token = $3::uuid AND state = 'leased'
      RETURNING state
      """;

  /**
   * Extends the owner's leases. It takes no job lock, so it skips a row a completion has locked (one lowering the
   * entry's depth, V11) instead of waiting for it, which could close a cycle of waits; renewals come three times
   * per lease, and the next one renews it.
   */
  static final String RENEW = """
      WITH mine AS (
        SELECT job_id, url_key FROM frontier
        WHERE state = 'leased' AND lease_owner = $1 AND lease_token = ANY ($2::uuid[])
        FOR UPDATE SKIP LOCKED
      )
      UPDATE frontier f SET lease_until = now() + make_interval(secs => $3 / 1000.0)
      FROM mine m WHERE f.job_id = m.job_id AND f.url_key = m.url_key
      """;

  /** A node stopping gives its leases back at once, without counting the attempt, rather than let them expire. */
  static final String RELEASE = """
      UPDATE frontier SET state = 'queued', attempts = greatest(attempts - 1, 0), next_at = now(),
        lease_owner = NULL, lease_token = NULL, lease_until = NULL, updated_at = now()
      WHERE job_id = $2::uuid AND state = 'leased' AND lease_owner = $1
      """;

  /**
   * The leases of the lease owner $1 in job $2 except those with the tokens $3 (the ones it knows it holds) go back
   * to the queue at once, or end the entry after $4 attempts, as {@link #REAP} does to an expired lease: leases a
   * claim took although its answer was lost (a timeout, PostgreSQL killed or frozen mid-claim), or whose result
   * could not be written, which would otherwise wait out the lease. The attempt counts, as it would at expiry.
   */
  static final String RELEASE_UNKNOWN = """
      UPDATE frontier SET state = CASE WHEN attempts >= $4 THEN 'failed' ELSE 'queued' END,
        error = 'the answer to its claim or its result was lost', error_class = 'lease-unknown',
        lease_owner = NULL, lease_token = NULL, lease_until = NULL, next_at = now(), updated_at = now()
      WHERE job_id = $2::uuid AND state = 'leased' AND lease_owner = $1 AND NOT (lease_token = ANY ($3::uuid[]))
      """;

  /**
   * Whether the node $1 still has a connection to the database (named {@code fetchbus/<node id>}, with {@code /fetch}
   * on a fetch node: see {@link SplitWatch}): then it is alive, whatever the cluster's view says.
   */
  static final String NODE_CONNECTED = """
      SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
        AND (application_name = 'fetchbus/' || $1 OR starts_with(application_name, 'fetchbus/' || $1 || '/'))) AS connected
      """;

  /** The jobs with leases held by any lease owner of the node $1 (owners are {@code <node id>/<id>}), in id order. */
  static final String JOBS_WITH_LEASES_OF_NODE = """
      SELECT DISTINCT job_id::text AS job_id FROM frontier
      WHERE state = 'leased' AND starts_with(lease_owner, $1 || '/')
      ORDER BY 1
      """;

  /**
   * The leases of a node that left the cluster ($1, as in {@link #JOBS_WITH_LEASES_OF_NODE}) go back to the queue at
   * once, or end the entry after $3 attempts, as {@link #REAP} does to an expired lease: the attempt counts, since
   * the node may have died of that URL. Clearing the token fences the node, should it come back with a result.
   */
  static final String RELEASE_NODE = """
      UPDATE frontier SET state = CASE WHEN attempts >= $3 THEN 'failed' ELSE 'queued' END,
        error = 'the node fetching it left the cluster', error_class = 'node-left',
        lease_owner = NULL, lease_token = NULL, lease_until = NULL, next_at = now(), updated_at = now()
      WHERE job_id = $2::uuid AND state = 'leased' AND starts_with(lease_owner, $1 || '/')
      """;

  /** Leases whose node died or paused past them go back to the queue, or end the entry after $1 attempts. */
  static final String REAP = """
      WITH expired AS (
        SELECT job_id, url_key FROM frontier WHERE job_id = $2::uuid AND state = 'leased' AND lease_until < now()
        LIMIT 1000 FOR UPDATE SKIP LOCKED
      )
      UPDATE frontier f SET state = CASE WHEN f.attempts >= $1 THEN 'failed' ELSE 'queued' END,
        error = 'lease expired: the node fetching it stopped or stalled', error_class = 'lease-expired',
        lease_owner = NULL, lease_token = NULL, lease_until = NULL, next_at = now(), updated_at = now()
      FROM expired e WHERE f.job_id = e.job_id AND f.url_key = e.url_key
      """;

  static final String CANCEL_JOB = """
      UPDATE crawl_jobs SET state = 'cancelled', finished_at = now()
      WHERE id = $1::uuid AND state IN ('queued', 'running') RETURNING id
      """;

  static final String JOBS_BY_STATE = "SELECT state, count(*) AS n FROM crawl_jobs GROUP BY state";

  static final String ENTRIES_BY_STATE = """
      SELECT COALESCE(sum(queued), 0) AS queued, COALESCE(sum(leased), 0) AS leased, COALESCE(sum(done), 0) AS done,
             COALESCE(sum(failed), 0) AS failed, COALESCE(sum(robots), 0) AS robots, COALESCE(sum(skipped), 0) AS skipped
      FROM crawl_jobs
      """;

  /** The URLs of a job that failed for good or that robots.txt disallowed, in URL order after $2. */
  static final String JOB_ERRORS = """
      SELECT url_key, url, state, attempts, error, error_class, updated_at FROM frontier
      WHERE job_id = $1::uuid AND state IN ('failed', 'robots') AND ($2::text IS NULL OR url_key > $2)
      ORDER BY url_key LIMIT $3
      """;
}
