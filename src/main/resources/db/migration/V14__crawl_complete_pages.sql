-- Crawl completions in batches. Every completion of a job holds the job's row lock from its first frontier change to
-- its commit, so one job's completions run one after another: at 3-4 ms each (the links, the counters, the commit)
-- a crawl could not pass about 300 pages/s however many cores it had. The store now completes the pages of one job
-- that wait together in one transaction, under one hold of the lock, with one statement per depth among them.

-- Lookups of a job's entries by a list of URL keys are written so that each key can only be one probe of the primary
-- key: a LATERAL subquery per key (OFFSET 0 keeps the planner from merging it into a join), and updates of rows found
-- that way by their ctid (a TID scan; the rows are locked by then, so the ctids hold). Written as a join or as
-- "url_key = ANY (array)", they were planned from the statistics of a young frontier, or of a job too new to be in
-- them (its rows estimated at 1), as a scan of the job's whole frontier: 1,600 to 2,300 rows read per completion
-- and per claim midway through a 5,000-page crawl, more as the frontier grows. Otherwise as in V11.
CREATE OR REPLACE FUNCTION crawl_add_urls(p_job uuid, p_keys text[], p_urls text[], p_hosts text[], p_depth integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_max    integer;
  v_depth  integer := p_depth;
  v_keys   text[] := p_keys;
  v_urls   text[] := p_urls;
  v_hosts  text[] := p_hosts;
  v_deeper tid[];
BEGIN
  SELECT max_depth INTO v_max FROM crawl_jobs WHERE id = p_job AND state IN ('queued', 'running');
  IF NOT FOUND THEN
    RETURN;
  END IF;
  WHILE COALESCE(cardinality(v_keys), 0) > 0 LOOP
    INSERT INTO crawl_hosts (job_id, host) SELECT DISTINCT p_job, h FROM unnest(v_hosts) AS h ORDER BY 2
      ON CONFLICT DO NOTHING;
    INSERT INTO frontier (job_id, url_key, url, host, depth)
      SELECT p_job, k, u, h, v_depth FROM unnest(v_keys, v_urls, v_hosts) AS l (k, u, h) ORDER BY k
      ON CONFLICT DO NOTHING;
    -- The entries the job has deeper, locked in key order.
    SELECT array_agg(f.ctid) INTO v_deeper
    FROM (SELECT DISTINCT k FROM unnest(v_keys) AS k ORDER BY k) l
    CROSS JOIN LATERAL (SELECT ctid FROM frontier
                        WHERE job_id = p_job AND url_key = l.k AND depth > v_depth FOR UPDATE) f;
    EXIT WHEN v_deeper IS NULL; -- the usual case: no shorter path, and no UPDATE (nor its counting trigger) runs
    WITH lowered AS (
      UPDATE frontier SET depth = v_depth, updated_at = now()
      WHERE ctid = ANY (v_deeper)
      RETURNING url_key, state
    )
    SELECT array_agg(l.k), array_agg(l.u), array_agg(l.h) INTO v_keys, v_urls, v_hosts
    FROM lowered w
    CROSS JOIN LATERAL (SELECT keys, urls, hosts FROM frontier_links
                        WHERE job_id = p_job AND url_key = w.url_key OFFSET 0) s
    CROSS JOIN LATERAL unnest(s.keys, s.urls, s.hosts) AS l (k, u, h)
    WHERE w.state = 'done' AND v_depth < v_max;
    v_depth := v_depth + 1;
  END LOOP;
END $$;

-- Finishes leased entries of one job, each with its stored page, as crawl_complete (V11) finishes one. p_keys,
-- p_tokens and p_pages are the entries, their leases and their pages; the link at position n of p_link_keys,
-- p_link_urls and p_link_hosts belongs to the entry at position p_link_of[n] of p_keys. If any lease is no longer
-- its entry's, it raises FB409 and nothing of the batch is kept: the caller checks the leases first, under the same
-- lock, and leaves out those it lost.
-- The entries go shallowest first, a depth at a time, and the depths of the rest are read again after each: a link
-- from a shallower entry of the batch may lower a deeper one, whose links then go one level below its new depth,
-- exactly as when the two complete one after the other.
CREATE FUNCTION crawl_complete_pages(p_job uuid, p_keys text[], p_tokens uuid[], p_pages bigint[],
                                     p_link_of integer[], p_link_keys text[], p_link_urls text[], p_link_hosts text[])
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_max   integer;
  v_live  boolean;
  v_held  integer;
  v_depth integer;
  v_group integer[];       -- positions in p_keys of the entries at v_depth
  v_rows  tid[];           -- and their rows
  v_done  integer[] := '{}';
  v_keys  text[];
  v_urls  text[];
  v_hosts text[];
BEGIN
  SELECT max_depth, state IN ('queued', 'running') INTO v_max, v_live FROM crawl_jobs WHERE id = p_job
    FOR NO KEY UPDATE;
  SELECT count(*) INTO v_held
  FROM (SELECT k, t FROM unnest(p_keys, p_tokens) AS e (k, t) ORDER BY k) e
  CROSS JOIN LATERAL (SELECT 1 FROM frontier WHERE job_id = p_job AND url_key = e.k AND lease_token = e.t
                        AND state = 'leased' FOR UPDATE) f;
  IF v_held <> cardinality(p_keys) THEN
    RAISE EXCEPTION 'a lease of the batch expired or was taken over; the batch is dropped' USING ERRCODE = 'FB409';
  END IF;
  LOOP
    v_group := NULL;
    -- Rows of this depth are not changed by the links added at the next one, so their ctids hold until the UPDATE.
    SELECT f.depth, array_agg(e.i::integer), array_agg(f.ctid) INTO v_depth, v_group, v_rows
      FROM unnest(p_keys) WITH ORDINALITY AS e (k, i)
      CROSS JOIN LATERAL (SELECT depth, ctid FROM frontier WHERE job_id = p_job AND url_key = e.k OFFSET 0) f
      WHERE NOT (e.i = ANY (v_done))
      GROUP BY f.depth ORDER BY f.depth LIMIT 1;
    EXIT WHEN v_group IS NULL;
    IF v_depth < v_max THEN
      SELECT array_agg(l.k), array_agg(l.u), array_agg(l.h) INTO v_keys, v_urls, v_hosts
        FROM unnest(p_link_of, p_link_keys, p_link_urls, p_link_hosts) AS l (i, k, u, h)
        WHERE l.i = ANY (v_group);
      PERFORM crawl_add_urls(p_job, v_keys, v_urls, v_hosts, v_depth + 1);
    END IF;
    IF v_live AND v_depth > 1 AND v_max > 1 THEN
      INSERT INTO frontier_links (job_id, url_key, keys, urls, hosts)
        SELECT p_job, p_keys[l.i], array_agg(l.k ORDER BY l.n), array_agg(l.u ORDER BY l.n), array_agg(l.h ORDER BY l.n)
        FROM unnest(p_link_of, p_link_keys, p_link_urls, p_link_hosts) WITH ORDINALITY AS l (i, k, u, h, n)
        WHERE l.i = ANY (v_group)
        GROUP BY l.i ORDER BY 2
        ON CONFLICT DO NOTHING;
    END IF;
    UPDATE frontier SET state = 'done', page_id = p_pages[array_position(p_keys, url_key)], lease_owner = NULL,
      lease_token = NULL, lease_until = NULL, error = NULL, error_class = NULL, updated_at = now()
    WHERE ctid = ANY (v_rows);
    v_done := v_done || v_group;
  END LOOP;
  RETURN cardinality(p_keys);
END $$;
