-- A crawl completion in one statement. Every completion of a job takes the job's row lock (its counters change
-- with the frontier), and the lock is held until commit. Done as separate statements from the service, the lock
-- was held over five round trips to a busy client: the other completions of the job queued behind it, and a
-- crawl ran at 1 / (those round trips). Here the lock is taken by the last statement, whose commit follows at
-- once on the server.

-- New URLs of a job at one depth, and their hosts; URLs it has already are left as they are, and a job that
-- has ended (a page in flight when it was cancelled) takes no more. Sorted, so that concurrent inserts lock rows
-- in the same order.
CREATE FUNCTION crawl_add_urls(p_job uuid, p_keys text[], p_urls text[], p_hosts text[], p_depth integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(p_keys) IS NULL OR cardinality(p_keys) = 0
     OR NOT EXISTS (SELECT 1 FROM crawl_jobs WHERE id = p_job AND state IN ('queued', 'running')) THEN
    RETURN;
  END IF;
  INSERT INTO crawl_hosts (job_id, host) SELECT DISTINCT p_job, h FROM unnest(p_hosts) AS h ORDER BY 2
    ON CONFLICT DO NOTHING;
  INSERT INTO frontier (job_id, url_key, url, host, depth)
    SELECT p_job, k, u, h, p_depth FROM unnest(p_keys, p_urls, p_hosts) AS l (k, u, h) ORDER BY k
    ON CONFLICT DO NOTHING;
END $$;

-- Finishes a leased entry under its lease: the job's lock first (the lock order of every frontier change), then
-- the lease check, the entry's links, and the entry marked done with its page (p_page), or removed (p_page null:
-- the entry was the job's sitemaps). A lost lease raises SQLSTATE FB409, which aborts the whole statement: the
-- page inserted with it in the same statement is not kept either.
CREATE FUNCTION crawl_complete(p_job uuid, p_key text, p_token uuid, p_page bigint,
                               p_keys text[], p_urls text[], p_hosts text[], p_depth integer)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM crawl_jobs WHERE id = p_job FOR NO KEY UPDATE;
  PERFORM 1 FROM frontier
    WHERE job_id = p_job AND url_key = p_key AND lease_token = p_token AND state = 'leased' FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the lease on % expired or was taken over; the result is dropped', p_key
      USING ERRCODE = 'FB409';
  END IF;
  PERFORM crawl_add_urls(p_job, p_keys, p_urls, p_hosts, p_depth);
  IF p_page IS NULL THEN
    DELETE FROM frontier WHERE job_id = p_job AND url_key = p_key;
  ELSE
    UPDATE frontier SET state = 'done', page_id = p_page, lease_owner = NULL, lease_token = NULL,
      lease_until = NULL, error = NULL, error_class = NULL, updated_at = now()
    WHERE job_id = p_job AND url_key = p_key;
  END IF;
  RETURN true;
END $$;
