-- Full-text search over what was fetched: the title (weight A) and the extracted text (weight B) of a page.
--
-- Configuration 'english', also for pages in other languages. A query goes through the same configuration as the
-- pages, so a word of any language still finds itself; English (most of the web) also gets stemming ("panels"
-- finds "panel") and its stop words dropped. The cost for other languages is small: the English stemmer may
-- conflate a few of their words, and their stop words are kept. 'simple' would treat every language alike but
-- finds only exact word forms and keeps "the" and "of" as terms; one configuration per page language would need
-- the query's language too.
--
-- A tsvector holds at most 1 MB of lexemes, and extraction keeps up to 1,000,000 characters of text: only the
-- first 100,000 characters are indexed (at most 4 bytes each, so always under the limit; positions stop counting
-- at 16,383 anyway), so a huge page is stored, and found by its beginning, instead of failing the insert.
-- The title is capped too, because pages saved over the bus may bring titles of any length.
--
-- Adding the column computes it for every existing page, under a lock on the table, once.
ALTER TABLE pages ADD COLUMN search tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('english'::regconfig, left(COALESCE(title, ''), 1000)), 'A') ||
  setweight(to_tsvector('english'::regconfig, left(COALESCE(text, ''), 100000)), 'B')
) STORED;

-- Only successful fetches are searchable (a failed attempt has neither title nor text anyway).
CREATE INDEX pages_search ON pages USING gin (search) WHERE error IS NULL;
