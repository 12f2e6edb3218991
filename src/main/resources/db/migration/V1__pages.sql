-- Each distinct body once, keyed by its SHA-256 (hex): refetching an unchanged page stores no new bytes.
CREATE TABLE contents (
  sha256 text PRIMARY KEY,
  body   bytea NOT NULL,
  bytes  integer NOT NULL
);

-- One row per fetch attempt. A failed attempt keeps its error and has no status or body.
-- fetch_id identifies the upstream fetch, so saving the same fetch twice yields one row.
CREATE TABLE pages (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  fetch_id       uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
  url            text NOT NULL,
  url_key        text NOT NULL,
  host           text NOT NULL,
  final_url      text,
  status         integer,
  content_type   text,
  headers        jsonb NOT NULL DEFAULT '{}',
  bytes          integer,
  content_sha256 text REFERENCES contents (sha256),
  title          text,
  fetched_at     timestamptz NOT NULL,
  elapsed_ms     integer,
  error          text
);

-- Newest first (id order) by URL and by host: the listing filters and the "fresh copy" lookup.
CREATE INDEX pages_url_key_newest ON pages (url_key, id DESC);
CREATE INDEX pages_host_newest ON pages (host, id DESC);
