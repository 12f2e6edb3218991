-- The page each version of a watched URL was stored as (issue 20): a watch run stores every new version (new,
-- changed, removed) through the page store, so that GET /v1/pages lists a watched URL's history and search finds it.
-- A page deleted since (by hand or by retention) leaves its version without one.
ALTER TABLE watch_changes ADD COLUMN page_id bigint REFERENCES pages (id) ON DELETE SET NULL;
CREATE INDEX watch_changes_by_page ON watch_changes (page_id) WHERE page_id IS NOT NULL;
