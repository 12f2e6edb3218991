-- Pages can be deleted (DELETE /v1/pages/{id}, a job's pages, retention). A body is kept while any page still
-- uses it: deleting one looks its pages up by its hash (the check, and the foreign key's own).
CREATE INDEX pages_content ON pages (content_sha256);

-- Retention deletes the pages fetched before a cutoff, one for pages with a body and a sooner one for failed
-- attempts: each kind found oldest first through an index of its own, so a pass reads only what it deletes.
CREATE INDEX pages_fetched_ok ON pages (fetched_at) WHERE error IS NULL;
CREATE INDEX pages_fetched_failed ON pages (fetched_at) WHERE error IS NOT NULL;
