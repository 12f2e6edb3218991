-- What the fetch engine reports per attempt: retries made, the timing breakdown, and the kind of failure.
ALTER TABLE pages
  ADD COLUMN retries     integer NOT NULL DEFAULT 0,
  ADD COLUMN timing      jsonb   NOT NULL DEFAULT '{}',
  ADD COLUMN error_class text;
