-- An Idempotency-Key answers the job it made only for the same request: it is scoped per API key and per endpoint
-- (a crawl and a batch never share one), and the request it came with is remembered by the SHA-256 of its body, so
-- that the same key sent with another body is refused (422) instead of answered with the first job.
-- request_sha256 is null for the jobs made before this migration: those keep answering as before.
ALTER TABLE crawl_jobs ADD COLUMN request_sha256 text;
DROP INDEX crawl_jobs_idempotency;
CREATE UNIQUE INDEX crawl_jobs_idempotency ON crawl_jobs (COALESCE(key_name, ''), kind, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
