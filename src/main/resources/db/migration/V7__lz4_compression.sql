-- Bodies and extracted texts are compressed by TOAST when stored. lz4 compresses and decompresses several times
-- faster than the default pglz, for a slightly larger result: the better trade for a store that writes every page
-- once and serves it back often. Only where this server was built with lz4 (PostgreSQL 14 and later, most builds);
-- elsewhere the columns keep pglz. Rows already stored keep their compression; new values use lz4.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
    ALTER TABLE contents ALTER COLUMN body SET COMPRESSION lz4;
    ALTER TABLE pages
      ALTER COLUMN text SET COMPRESSION lz4,
      ALTER COLUMN markdown SET COMPRESSION lz4,
      ALTER COLUMN links SET COMPRESSION lz4,
      ALTER COLUMN metadata SET COMPRESSION lz4,
      ALTER COLUMN headers SET COMPRESSION lz4,
      ALTER COLUMN search SET COMPRESSION lz4;
  END IF;
END
$$;
