package io.fetchbus.store;

/** Every SQL statement the store runs. */
final class Sql {
  private Sql() {}

  static final String PAGE_COLUMNS = "id, fetch_id::text AS fetch_id, url, final_url, host, status, content_type, "
      + "headers, bytes, content_sha256, title, fetched_at, elapsed_ms, retries, timing, error, error_class, revalidated_at, metadata";

  /**
   * Stores the body once (by hash) and the page once (by fetch id) in one round trip. $1..$3 describe the body
   * and are all null for a failed attempt. Returns no row when this fetch was saved before.
   */
  static final String INSERT_PAGE = """
      WITH body AS (
        INSERT INTO contents (sha256, body, bytes)
        SELECT $1::text, $2::bytea, $3::integer WHERE $1::text IS NOT NULL
        ON CONFLICT (sha256) DO NOTHING
      )
      INSERT INTO pages (fetch_id, url, url_key, host, final_url, status, content_type, headers, bytes,
                         content_sha256, title, fetched_at, elapsed_ms, error, retries, timing, error_class,
                         metadata, text, markdown, links, job_id)
      VALUES (COALESCE($4::uuid, gen_random_uuid()), $5, $6, $7, $8, $9, $10, $11, $3, $1, $12, $13, $14, $15, $16, $17, $18,
              $19, $20, $21, $22, $23)
      ON CONFLICT (fetch_id) DO NOTHING
      RETURNING id, fetch_id::text AS fetch_id
      """;

  static final String REVALIDATE_PAGE = "UPDATE pages SET fetched_at = now(), revalidated_at = now() "
      + "WHERE id = $1 AND error IS NULL RETURNING " + PAGE_COLUMNS;

  static final String PAGE_BY_ID = "SELECT " + PAGE_COLUMNS + " FROM pages WHERE id = $1";
  static final String PAGE_BY_FETCH_ID = "SELECT " + PAGE_COLUMNS + " FROM pages WHERE fetch_id = $1::uuid";

  /** The stored formats of a page; the body only when {@code html} is asked for ($2). */
  static final String FORMATS_BY_PAGE_ID = "SELECT p.text, p.markdown, p.links, p.content_type, "
      + "CASE WHEN $2 THEN c.body END AS body FROM pages p LEFT JOIN contents c ON c.sha256 = p.content_sha256 "
      + "WHERE p.id = $1";

  static final String CONTENT_BY_PAGE_ID = """
      SELECT p.content_type, p.error, c.body
      FROM pages p LEFT JOIN contents c ON c.sha256 = p.content_sha256
      WHERE p.id = $1
      """;

  /** The listing: filters are added by {@link PageFinder}; keyset pagination on id keeps every page one index range. */
  static final String FIND_PAGES = "SELECT " + PAGE_COLUMNS + " FROM pages";
}
