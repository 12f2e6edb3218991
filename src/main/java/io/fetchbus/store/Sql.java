package io.fetchbus.store;

/** Every SQL statement the store runs. */
final class Sql {
  private Sql() {}

  /**
   * The newest version Flyway applied, when no migration failed: one row, or none while a failed one is recorded
   * (Flyway must then say so). Fails when there is no history yet.
   */
  static final String SCHEMA_VERSION = """
      SELECT version FROM flyway_schema_history
      WHERE success AND version IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM flyway_schema_history WHERE NOT success)
      ORDER BY installed_rank DESC LIMIT 1
      """;

  /**
   * The nodes connected to this database: every store connection is named {@code fetchbus/<node id>}, followed by
   * {@code /fetch} on a node that runs the fetch role (see {@link SplitWatch}); whether each node fetches, and whether
   * one of its connections was used within the last $1 ms (every store node queries at least once a second, a
   * frozen one not at all).
   */
  /** One round of a fetch node's origin leases (migration V16): the holder of each bucket renewed or asked for. */
  static final String ORIGIN_LEASES_ROUND = "SELECT bucket, owner, token, until_ms, ms_left FROM origin_leases_round("
      + "$1, $2, $3::integer[], $4::integer[], $5::bigint[], $6::integer[], $7::bigint[])";

  static final String CONNECTED_NODES = """
      SELECT DISTINCT split_part(application_name, '/', 2) AS node
      FROM pg_stat_activity
      WHERE datname = current_database() AND starts_with(application_name, 'fetchbus/')
      """;

  static final String PAGE_COLUMNS = "id, fetch_id::text AS fetch_id, url, final_url, host, status, content_type, "
      + "headers, bytes, content_sha256, title, fetched_at, elapsed_ms, retries, timing, error, error_class, revalidated_at, metadata";

  /** The body of a page, stored once by its hash; $1..$3 are all null for a failed attempt (then nothing is stored). */
  static final String INSERT_BODY = """
      INSERT INTO contents (sha256, body, bytes)
      SELECT $1::text, $2::bytea, $3::integer WHERE $1::text IS NOT NULL
      ON CONFLICT (sha256) DO NOTHING
      """;

  /**
   * The page row, once by fetch id ($4, or a new one); $23 is its crawl job or null, $24 its search vector (text form)
   * or null for the indexer to make, $25..$27 its HTTP exchange for the WARC export. The text, markdown and search
   * vector ($20, $21, $24) come as UTF-8 bytes ({@link PageRows#insertParams}). Followed by a RETURNING.
   */
  static final String INSERT_PAGE_ROW = """
      INSERT INTO pages (fetch_id, url, url_key, host, final_url, status, content_type, headers, bytes,
                         content_sha256, title, fetched_at, elapsed_ms, error, retries, timing, error_class,
                         metadata, text, markdown, links, job_id, search, request_head, response_head, peer_ip)
      VALUES (COALESCE($4::uuid, gen_random_uuid()), $5, $6, $7, $8, $9, $10, $11, $3, $1, $12, $13, $14, $15, $16, $17, $18,
              $19, convert_from($20, 'UTF8'), convert_from($21, 'UTF8'), $22, $23::uuid,
              convert_from($24, 'UTF8')::tsvector, $25, $26, $27)
      ON CONFLICT (fetch_id) DO NOTHING
      """;

  /**
   * Stores the body once (by hash) and the page once (by fetch id) in one round trip, with the parameters of
   * {@link PageRows#insertParams}. Returns no row when this fetch was saved before.
   */
  static final String INSERT_PAGE = "WITH body AS (" + INSERT_BODY + ") " + INSERT_PAGE_ROW
      + " RETURNING id, fetch_id::text AS fetch_id";

  static final String REVALIDATE_PAGE = "UPDATE pages SET fetched_at = now(), revalidated_at = now() "
      + "WHERE id = $1 AND error IS NULL RETURNING " + PAGE_COLUMNS;

  static final String PAGE_BY_ID = "SELECT " + PAGE_COLUMNS + " FROM pages WHERE id = $1";
  static final String PAGE_BY_FETCH_ID = "SELECT " + PAGE_COLUMNS + " FROM pages WHERE fetch_id = $1::uuid";

  /**
   * The stored formats of a page; the body only when {@code html} is asked for ($2), or {@code markdown} ($3) and
   * the page has none yet.
   */
  static final String FORMATS_BY_PAGE_ID = "SELECT p.text, p.markdown, p.links, p.content_type, p.final_url, p.url, "
      + "CASE WHEN $2 OR ($3 AND p.markdown IS NULL) THEN c.body END AS body "
      + "FROM pages p LEFT JOIN contents c ON c.sha256 = p.content_sha256 WHERE p.id = $1";

  /**
   * What the content of listed pages ($1) weighs, read without loading it (a TOASTed value's stored length): the
   * text, the markdown, the body, and the links when asked for ($2; serialised to be measured). A page without
   * markdown weighs its body there, which it is made from.
   */
  static final String CONTENT_SIZES = """
      SELECT p.id, COALESCE(octet_length(p.text), 0) AS text_bytes,
             COALESCE(octet_length(p.markdown), p.bytes, 0) AS markdown_bytes, COALESCE(p.bytes, 0) AS body_bytes,
             CASE WHEN $2 THEN COALESCE(octet_length(p.links::text), 0) ELSE 0 END AS links_bytes
      FROM pages p WHERE p.id = ANY ($1::bigint[])
      """;

  /** {@link #FORMATS_BY_PAGE_ID} for the pages $1, each column only when asked: text $2, markdown $3, links $4, html $5. */
  static final String FORMATS_BY_PAGE_IDS = """
      SELECT p.id, CASE WHEN $2 THEN p.text END AS text, CASE WHEN $3 THEN p.markdown END AS markdown,
             CASE WHEN $4 THEN p.links END AS links, p.content_type, p.final_url, p.url,
             CASE WHEN $5 OR ($3 AND p.markdown IS NULL) THEN c.body END AS body
      FROM pages p LEFT JOIN contents c ON c.sha256 = p.content_sha256 WHERE p.id = ANY ($1::bigint[])
      """;

  /** What the bodies of the pages $1 weigh together. */
  static final String BODY_BYTES = "SELECT COALESCE(sum(bytes), 0) AS bytes FROM pages WHERE id = ANY ($1::bigint[])";

  /** The WARC export's view of the pages $1 that have a body: the heads of their exchange and the body. */
  static final String CAPTURES_BY_PAGE_IDS = """
      SELECT p.id, p.request_head, p.response_head, p.peer_ip, c.body
      FROM pages p JOIN contents c ON c.sha256 = p.content_sha256 WHERE p.id = ANY ($1::bigint[])
      """;

  /** Deletes the pages $1; what went, for the caches to follow and the bodies to check. */
  static final String DELETE_PAGES = """
      DELETE FROM pages WHERE id = ANY ($1::bigint[])
      RETURNING id, url, fetch_id::text AS fetch_id, content_sha256
      """;

  /**
   * The bodies $1 that no page uses any more. A statement of its own, after the pages' delete (a statement does not
   * see its own CTEs' deletes). A page being saved with one of them at the same moment holds its row (the foreign
   * key's check) until it commits: the delete then fails, and is tried again.
   */
  static final String DELETE_ORPHAN_BODIES = """
      DELETE FROM contents c WHERE c.sha256 = ANY ($1::text[])
        AND NOT EXISTS (SELECT 1 FROM pages p WHERE p.content_sha256 = c.sha256)
      """;

  /** How many entries of the job $1 are leased: fetches in flight, which may still store a page. */
  static final String JOB_LEASED = "SELECT leased FROM crawl_jobs WHERE id = $1::uuid";

  /** Up to $2 pages of the job $1, in id order. */
  static final String JOB_PAGE_IDS = "SELECT id FROM pages WHERE job_id = $1::uuid ORDER BY id LIMIT $2";

  /** Up to $2 pages with a body fetched before $1, oldest first; rows another node is deleting are skipped. */
  static final String EXPIRED_PAGE_IDS = """
      SELECT id FROM pages WHERE error IS NULL AND fetched_at < $1 ORDER BY fetched_at LIMIT $2 FOR UPDATE SKIP LOCKED
      """;

  /** Up to $2 failed attempts made before $1, oldest first, as {@link #EXPIRED_PAGE_IDS}. */
  static final String EXPIRED_FAILURE_IDS = """
      SELECT id FROM pages WHERE error IS NOT NULL AND fetched_at < $1 ORDER BY fetched_at LIMIT $2
      FOR UPDATE SKIP LOCKED
      """;

  /** Keeps a page's markdown made on its first read; a concurrent read that made it too changes nothing. */
  static final String SET_MARKDOWN = "UPDATE pages SET markdown = $2 WHERE id = $1 AND markdown IS NULL";

  static final String CONTENT_BY_PAGE_ID = """
      SELECT p.content_type, p.error, c.body
      FROM pages p LEFT JOIN contents c ON c.sha256 = p.content_sha256
      WHERE p.id = $1
      """;

  /** The listing: filters are added by {@link PageFinder}; keyset pagination on id keeps every page one index range. */
  static final String FIND_PAGES = "SELECT " + PAGE_COLUMNS + " FROM pages";

  /**
   * One batch of the search indexer, in a transaction: the oldest pages not indexed yet ($1 of them), through the V9
   * partial index, with what is indexed of them (see SearchVector); rows another indexer holds are skipped, not
   * waited for.
   */
  static final String UNINDEXED_BATCH = """
      SELECT id, left(title, 1000) AS title, left(text, 100000) AS text FROM pages
      WHERE search IS NULL AND error IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
      """;

  /** The search vectors ($2, text form) of the pages of a batch ($1), in the same transaction. */
  static final String SET_SEARCH = """
      UPDATE pages p SET search = v.search::tsvector FROM unnest($1::bigint[], $2::text[]) AS v(id, search)
      WHERE p.id = v.id
      """;

  /**
   * How far behind the search index is: the pages stored and not indexed yet (counted up to $1, so that a large
   * backlog costs a bounded scan), and how long ago the oldest of them was fetched, in seconds.
   */
  static final String SEARCH_LAG = """
      SELECT (SELECT count(*) FROM (SELECT 1 FROM pages WHERE search IS NULL AND error IS NULL LIMIT $1) AS n) AS pages,
             COALESCE((SELECT EXTRACT(epoch FROM now() - fetched_at) FROM pages
                       WHERE search IS NULL AND error IS NULL ORDER BY id LIMIT 1), 0)::float8 AS seconds
      """;

  /**
   * Full-text search (V6: the {@code search} column and its GIN index, stored with the page or filled by
   * {@link SearchIndexer}), most relevant first. $1 the query as a tsquery ({@code SearchQuery}), $2 host or null,
   * $3 job id or null, $4/$5 the (rank, id) of the cursor or nulls, $6 the row limit, $7 whether only each URL's
   * newest copy counts.
   * <ul>
   *   <li>Newest copy ($7): a match is dropped when a newer page of its URL with a body exists (in the job, with
   *   $3), whether or not that one matches: an old copy is not found by words its page no longer has. One probe of
   *   V1's pages_url_key_newest (url_key, id DESC) per match, which stops at the first newer copy.</li>
   *   <li>A query with no words left once stop words and punctuation are dropped ({@code "the"}, {@code "!!"}) is
   *   null, so it matches nothing and scans nothing.</li>
   *   <li>Rank: {@code ts_rank_cd} (cover density) over the weights of V6, a title match (A) counting 2.5 times a
   *   text match (B); normalization 1 divides by 1 + log(length), so a long page does not win by size alone.</li>
   *   <li>The snippet (ts_headline, CPU-heavy) is made only for the rows of the answer, in the outer query, from at
   *   most the first 30,000 characters of the text (a match further in gives the page's opening words, unmarked):
   *   15 to 35 words around the best match. (Its fragment mode, MaxFragments, cuts short texts oddly.)
   *   Matches are marked with the control characters 1 and 2, removed from the text beforehand, and
   *   {@link PageSearch#snippet} turns them into {@code <b>}/{@code </b>} while escaping the rest.</li>
   * </ul>
   */
  static final String SEARCH_PAGES = """
      WITH q AS MATERIALIZED (
        SELECT $1::text::tsquery AS query
      ), hits AS (
        SELECT p.id, ts_rank_cd(p.search, q.query, 1) AS rank
        FROM q JOIN pages p ON p.search @@ q.query
        WHERE q.query IS NOT NULL AND numnode(q.query) > 0 AND p.error IS NULL
          AND ($2::text IS NULL OR p.host = $2::text)
          AND ($3::uuid IS NULL OR p.job_id = $3::uuid)
          AND (NOT $7::boolean OR NOT EXISTS (
            SELECT 1 FROM pages n WHERE n.url_key = p.url_key AND n.id > p.id AND n.error IS NULL
              AND ($3::uuid IS NULL OR n.job_id = $3::uuid)))
      ), page AS (
        SELECT id, rank FROM hits
        WHERE $4::real IS NULL OR (rank, id) < ($4::real, $5::bigint)
        ORDER BY rank DESC, id DESC
        LIMIT $6
      )
      SELECT %s, page.rank,
             ts_headline('english', translate(left(COALESCE(NULLIF(p.text, ''), p.title, ''), 30000), chr(1) || chr(2), ''),
                         q.query, 'StartSel=' || chr(1) || ', StopSel=' || chr(2)
                                  || ', MaxWords=35, MinWords=15') AS snippet
      FROM page JOIN pages p USING (id) CROSS JOIN q
      ORDER BY page.rank DESC, page.id DESC
      """.formatted(PAGE_COLUMNS); // id is the column both sides of USING (id) share; the others are only in pages
}
