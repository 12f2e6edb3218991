-- Search is indexed in the background, near-real-time (SearchIndexer), instead of inside every insert: the
-- generated column made to_tsvector part of each page's insert, which more than doubled what a fetch cost.
--
-- The column keeps its values and its GIN index; from now on a new page is stored with search NULL, and the
-- indexer fills it in batches shortly after (search.refreshMs). A page whose search is NULL is simply not found yet.
ALTER TABLE pages ALTER COLUMN search DROP EXPRESSION;

-- The one definition of what is searchable (V6's expression): the title (weight A) and the first 100,000
-- characters of the text (weight B), both in the 'english' configuration.
CREATE FUNCTION page_search_vector(p_title text, p_text text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('english'::regconfig, left(COALESCE(p_title, ''), 1000)), 'A') ||
         setweight(to_tsvector('english'::regconfig, left(COALESCE(p_text, ''), 100000)), 'B')
$$;

-- The indexer's queue: successful pages not indexed yet, oldest first. Small while the indexer keeps up.
CREATE INDEX pages_unindexed ON pages (id) WHERE search IS NULL AND error IS NULL;
