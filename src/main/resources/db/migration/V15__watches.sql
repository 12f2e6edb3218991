-- Watches (issue 20): URLs checked again and again on an adaptive schedule, reporting when their main text really
-- changed. A watch is run by one node at a time under a lease (lease_token fences the run's write), so a node that
-- dies mid-run loses nothing: the lease expires and another node runs the watch again.
CREATE TABLE watches (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  key_name         text,
  spec             jsonb NOT NULL,
  interval_seconds integer NOT NULL,
  next_at          timestamptz NOT NULL DEFAULT now(),
  lease_owner      text,
  lease_token      uuid,
  lease_until      timestamptz,
  runs             integer NOT NULL DEFAULT 0,
  last_run_at      timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX watches_due ON watches (next_at);
CREATE INDEX watches_newest ON watches (created_at DESC, id);
CREATE INDEX watches_by_key ON watches (COALESCE(key_name, ''));

-- The last state of each URL of a watch: what the next run compares with, and revalidates with.
CREATE TABLE watch_urls (
  watch_id      uuid NOT NULL REFERENCES watches (id) ON DELETE CASCADE,
  position      integer NOT NULL,
  url           text NOT NULL,
  change_status text CHECK (change_status IN ('new', 'same', 'changed', 'removed')),
  status        integer,
  error         text,
  etag          text,
  last_modified text,
  text          text,
  simhash       bigint,
  links         jsonb,
  checked_at    timestamptz,
  changed_at    timestamptz,
  PRIMARY KEY (watch_id, position)
);

-- Every version that differed from the one before (new, changed, removed), with its diff; the newest
-- watches.maxVersionsPerUrl per URL are kept.
CREATE TABLE watch_changes (
  id            bigserial PRIMARY KEY,
  watch_id      uuid NOT NULL REFERENCES watches (id) ON DELETE CASCADE,
  url           text NOT NULL,
  change_status text NOT NULL CHECK (change_status IN ('new', 'changed', 'removed')),
  status        integer,
  distance      integer,
  diff          text,
  diff_truncated boolean NOT NULL DEFAULT false,
  added_links   jsonb,
  removed_links jsonb,
  checked_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX watch_changes_by_watch ON watch_changes (watch_id, id DESC);
CREATE INDEX watch_changes_by_url ON watch_changes (watch_id, url, id DESC);
