-- A crawl's depth is the shortest link distance from the seed, whatever the order in which pages are found. A URL
-- used to keep the depth of the path that found it first: when a page on the short path answered late, failed
-- first or sat on a node that died, a longer path found the pages below it first, too deep, and near maxDepth the
-- crawl stopped short of pages within it, and said nothing. Now a shorter path found later lowers the entry's
-- depth; an entry already fetched has the links it followed stored (below), and they are followed again from the
-- lower depth, recursively, in the same statement: no page is fetched or stored twice for it.

-- The bound on the depth of the pages a job follows links to: the crawl's maxDepth (0 for a batch, which follows
-- none). A column of its own, because the completions read it under the job's lock, and spec may be large.
ALTER TABLE crawl_jobs ADD COLUMN max_depth integer NOT NULL DEFAULT 0;
UPDATE crawl_jobs SET max_depth = (spec ->> 'maxDepth')::integer WHERE kind = 'crawl' AND spec ? 'maxDepth';

-- The links a page of a live job was completed with (what the job follows from it: in scope, canonical), kept
-- while a shorter path to the page may still be found: only for depths above 1 (no discovered link is shallower
-- than 1) and only while the job runs (crawl_job_ended drops them).
CREATE TABLE frontier_links (
  job_id  uuid NOT NULL,
  url_key text NOT NULL,
  keys    text[] NOT NULL,
  urls    text[] NOT NULL,
  hosts   text[] NOT NULL,
  PRIMARY KEY (job_id, url_key),
  FOREIGN KEY (job_id, url_key) REFERENCES frontier (job_id, url_key) ON DELETE CASCADE
);

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
    ALTER TABLE frontier_links ALTER COLUMN keys SET COMPRESSION lz4, ALTER COLUMN urls SET COMPRESSION lz4,
      ALTER COLUMN hosts SET COMPRESSION lz4; -- as V7 does for the other large columns
  END IF;
END
$$;

CREATE FUNCTION crawl_drop_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM frontier_links WHERE job_id = NEW.id;
  RETURN NULL;
END $$;

-- A job that ended (completed, cancelled, failed) finds no shorter paths any more: its stored links go.
CREATE TRIGGER crawl_job_ended AFTER UPDATE OF state ON crawl_jobs FOR EACH ROW
  WHEN (OLD.state IN ('queued', 'running') AND NEW.state NOT IN ('queued', 'running'))
  EXECUTE FUNCTION crawl_drop_links();

-- New URLs of a job at one depth, and their hosts, unless the job has ended. A URL the job has at a greater depth
-- is lowered to this one (a shorter path); if its page is stored, its stored links are added one level deeper in
-- turn, while that is within max_depth: at most max_depth rounds. Callers hold the job's lock, so two completions
-- never lower entries of one job at once. Only the rows lowered are locked (an ON CONFLICT DO UPDATE would lock
-- every link's row); the one other writer of leased rows without the job's lock, a lease renewal, skips rows
-- locked here rather than wait (CrawlSql.RENEW), so the two never deadlock.
CREATE OR REPLACE FUNCTION crawl_add_urls(p_job uuid, p_keys text[], p_urls text[], p_hosts text[], p_depth integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_max    integer;
  v_depth  integer := p_depth;
  v_keys   text[] := p_keys;
  v_urls   text[] := p_urls;
  v_hosts  text[] := p_hosts;
  v_deeper text[];
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
    SELECT array_agg(url_key) INTO v_deeper FROM (
      SELECT url_key FROM frontier
      WHERE job_id = p_job AND url_key = ANY (v_keys) AND depth > v_depth
      ORDER BY url_key FOR UPDATE) d;
    EXIT WHEN v_deeper IS NULL; -- the usual case: no shorter path, and no UPDATE (nor its counting trigger) runs
    WITH lowered AS (
      UPDATE frontier SET depth = v_depth, updated_at = now()
      WHERE job_id = p_job AND url_key = ANY (v_deeper)
      RETURNING url_key, state
    )
    SELECT array_agg(l.k), array_agg(l.u), array_agg(l.h) INTO v_keys, v_urls, v_hosts
    FROM lowered w
    JOIN frontier_links s ON s.job_id = p_job AND s.url_key = w.url_key
    CROSS JOIN LATERAL unnest(s.keys, s.urls, s.hosts) AS l (k, u, h)
    WHERE w.state = 'done' AND v_depth < v_max;
    v_depth := v_depth + 1;
  END LOOP;
END $$;

-- Finishes a leased entry under its lease, as in V8, with one change: a page's links go one level below the
-- entry's depth as it is now (a shorter path may have lowered it since it was leased), if that is within
-- max_depth; p_depth places only the links of an entry without a page (the job's sitemaps). A page's links are
-- kept in frontier_links when the page could still turn out to be shallower and have them followed from there.
CREATE OR REPLACE FUNCTION crawl_complete(p_job uuid, p_key text, p_token uuid, p_page bigint,
                                          p_keys text[], p_urls text[], p_hosts text[], p_depth integer)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_max   integer;
  v_live  boolean;
  v_depth integer;
BEGIN
  SELECT max_depth, state IN ('queued', 'running') INTO v_max, v_live FROM crawl_jobs WHERE id = p_job
    FOR NO KEY UPDATE;
  SELECT depth INTO v_depth FROM frontier
    WHERE job_id = p_job AND url_key = p_key AND lease_token = p_token AND state = 'leased' FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the lease on % expired or was taken over; the result is dropped', p_key
      USING ERRCODE = 'FB409';
  END IF;
  IF p_page IS NULL THEN
    PERFORM crawl_add_urls(p_job, p_keys, p_urls, p_hosts, p_depth);
    DELETE FROM frontier WHERE job_id = p_job AND url_key = p_key;
    RETURN true;
  END IF;
  IF v_depth < v_max THEN
    PERFORM crawl_add_urls(p_job, p_keys, p_urls, p_hosts, v_depth + 1);
  END IF;
  IF v_live AND v_depth > 1 AND v_max > 1 AND COALESCE(cardinality(p_keys), 0) > 0 THEN
    INSERT INTO frontier_links (job_id, url_key, keys, urls, hosts) VALUES (p_job, p_key, p_keys, p_urls, p_hosts)
      ON CONFLICT DO NOTHING;
  END IF;
  UPDATE frontier SET state = 'done', page_id = p_page, lease_owner = NULL, lease_token = NULL,
    lease_until = NULL, error = NULL, error_class = NULL, updated_at = now()
  WHERE job_id = p_job AND url_key = p_key;
  RETURN true;
END $$;
