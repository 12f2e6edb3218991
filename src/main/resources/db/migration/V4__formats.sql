-- What extraction read out of a page, stored with it so that later reads never parse it again.
ALTER TABLE pages
  ADD COLUMN metadata jsonb,
  ADD COLUMN text     text,
  ADD COLUMN markdown text,
  ADD COLUMN links    jsonb;
