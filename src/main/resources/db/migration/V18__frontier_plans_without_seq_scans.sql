-- A batch of crawl completions updates its entries by ctid (V14), which PostgreSQL can do as a TID scan. But the
-- plans of a function's statements are cached for the life of the connection, and a crawl's frontier grows from a
-- few rows to thousands within seconds, faster than autovacuum analyzes it: the UPDATE kept the plan it got while
-- the frontier was small, a sequential scan filtering on ctid. Midway through the bench's 5,000-page crawl it read
-- 15,000 to 25,000 rows for each batch of 10 to 40 entries, 14 ms of the 26 ms a batch held the job's lock
-- (auto_explain, 2026-12-07). These functions only look entries up by key or by ctid: no plan of theirs, nor of the
-- functions they call, is to read the frontier from end to end, whatever the statistics say.
ALTER FUNCTION crawl_complete_pages(uuid, text[], uuid[], bigint[], integer[], text[], text[], text[])
  SET enable_seqscan = off;
ALTER FUNCTION crawl_complete(uuid, text, uuid, bigint, text[], text[], text[], integer) SET enable_seqscan = off;
ALTER FUNCTION crawl_add_urls(uuid, text[], text[], text[], integer) SET enable_seqscan = off;
