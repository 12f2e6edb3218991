-- Crawl and batch jobs, and their frontier: Postgres is the source of truth, so a job survives kill -9,
-- a Postgres restart and the loss of a node. Memory holds only the entries leased right now.
CREATE TABLE crawl_jobs (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind            text NOT NULL CHECK (kind IN ('crawl', 'batch')),
  spec            jsonb NOT NULL,
  state           text NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'running', 'completed', 'cancelled', 'failed')),
  page_limit      integer NOT NULL,
  key_name        text,
  idempotency_key text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  started_at      timestamptz,
  finished_at     timestamptz,
  claimed_at      timestamptz,
  -- Frontier entries by state, kept equal to the rows by the trigger below (never written by hand).
  queued          integer NOT NULL DEFAULT 0,
  leased          integer NOT NULL DEFAULT 0,
  done            integer NOT NULL DEFAULT 0,
  failed          integer NOT NULL DEFAULT 0,
  robots          integer NOT NULL DEFAULT 0,
  skipped         integer NOT NULL DEFAULT 0
);
-- A retried submission with the same Idempotency-Key (per API key) finds its job.
CREATE UNIQUE INDEX crawl_jobs_idempotency ON crawl_jobs (COALESCE(key_name, ''), idempotency_key)
  WHERE idempotency_key IS NOT NULL;
-- The claim loop looks only at live jobs; listings go newest first.
CREATE INDEX crawl_jobs_live ON crawl_jobs (claimed_at NULLS FIRST) WHERE state IN ('queued', 'running');
CREATE INDEX crawl_jobs_newest ON crawl_jobs (created_at DESC, id);

-- One row per canonical URL per job. state: queued -> leased -> done | failed (discarded after maxAttempts)
-- | robots (disallowed) | skipped (never fetched: the job's limit was reached or it ended first).
CREATE TABLE frontier (
  job_id      uuid NOT NULL REFERENCES crawl_jobs (id) ON DELETE CASCADE,
  url_key     text NOT NULL,
  url         text NOT NULL,
  host        text NOT NULL,
  depth       integer NOT NULL,
  state       text NOT NULL DEFAULT 'queued'
              CHECK (state IN ('queued', 'leased', 'done', 'failed', 'robots', 'skipped')),
  attempts    integer NOT NULL DEFAULT 0,
  next_at     timestamptz NOT NULL DEFAULT now(),
  lease_owner text,
  lease_token uuid,
  lease_until timestamptz,
  page_id     bigint,
  error       text,
  error_class text,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, url_key)
);
-- Claims take the due entries of one host at a time (see crawl_hosts), shallowest first.
CREATE INDEX frontier_due ON frontier (job_id, host, depth, next_at) WHERE state = 'queued';
CREATE INDEX frontier_leases ON frontier (lease_until) WHERE state = 'leased';
CREATE INDEX frontier_owner ON frontier (lease_owner) WHERE state = 'leased';
CREATE INDEX frontier_errors ON frontier (job_id, url_key) WHERE state IN ('failed', 'robots');

-- The hosts of a job, so that claims rotate over hosts instead of draining one host at a time.
CREATE TABLE crawl_hosts (
  job_id     uuid NOT NULL REFERENCES crawl_jobs (id) ON DELETE CASCADE,
  host       text NOT NULL,
  claimed_at timestamptz,
  PRIMARY KEY (job_id, host)
);

-- Pages stored by a job point at it; a page fetched by POST /v1/fetch has none.
ALTER TABLE pages ADD COLUMN job_id uuid REFERENCES crawl_jobs (id) ON DELETE SET NULL;
CREATE INDEX pages_job_newest ON pages (job_id, id DESC) WHERE job_id IS NOT NULL;

-- Keeps crawl_jobs' per-state counters equal to the frontier rows: one UPDATE per statement, from the
-- statement's transition tables, so a batch of 20 discovered links costs one counter update, not 20.
CREATE FUNCTION frontier_apply(jobs uuid[], states text[], deltas integer[]) RETURNS void LANGUAGE sql AS $$
  UPDATE crawl_jobs c SET
    queued  = c.queued  + x.queued,
    leased  = c.leased  + x.leased,
    done    = c.done    + x.done,
    failed  = c.failed  + x.failed,
    robots  = c.robots  + x.robots,
    skipped = c.skipped + x.skipped
  FROM (
    SELECT job_id,
      COALESCE(sum(n) FILTER (WHERE state = 'queued'), 0)  AS queued,
      COALESCE(sum(n) FILTER (WHERE state = 'leased'), 0)  AS leased,
      COALESCE(sum(n) FILTER (WHERE state = 'done'), 0)    AS done,
      COALESCE(sum(n) FILTER (WHERE state = 'failed'), 0)  AS failed,
      COALESCE(sum(n) FILTER (WHERE state = 'robots'), 0)  AS robots,
      COALESCE(sum(n) FILTER (WHERE state = 'skipped'), 0) AS skipped
    FROM unnest(jobs, states, deltas) AS d (job_id, state, n)
    GROUP BY job_id
    ORDER BY job_id -- the same lock order in every transaction: no deadlock between two of them
  ) x
  WHERE c.id = x.job_id
$$;

CREATE FUNCTION frontier_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM frontier_apply(array_agg(job_id), array_agg(state), array_agg(n))
    FROM (SELECT job_id, state, count(*)::integer AS n FROM new_rows GROUP BY 1, 2) d;
  RETURN NULL;
END $$;

CREATE FUNCTION frontier_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM frontier_apply(array_agg(job_id), array_agg(state), array_agg(n))
    FROM (SELECT job_id, state, sum(n)::integer AS n
          FROM (SELECT job_id, state, 1 AS n FROM new_rows
                UNION ALL SELECT job_id, state, -1 FROM old_rows) u
          GROUP BY 1, 2 HAVING sum(n) <> 0) d;
  RETURN NULL;
END $$;

CREATE FUNCTION frontier_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM frontier_apply(array_agg(job_id), array_agg(state), array_agg(-n))
    FROM (SELECT job_id, state, count(*)::integer AS n FROM old_rows GROUP BY 1, 2) d;
  RETURN NULL;
END $$;

CREATE TRIGGER frontier_inserted AFTER INSERT ON frontier REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION frontier_count_inserted();
CREATE TRIGGER frontier_updated AFTER UPDATE ON frontier REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION frontier_count_updated();
CREATE TRIGGER frontier_deleted AFTER DELETE ON frontier REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION frontier_count_deleted();
