package io.fetchbus.store;

import io.fetchbus.bus.PageQuery;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;

/** Turns a {@link PageQuery} into SQL, and page ids into the opaque cursors clients pass back as {@code after}. */
final class PageFinder {
  private static final String CURSOR_PREFIX = "p1:";

  private PageFinder() {}

  record Statement(String sql, Tuple params) {}

  static Statement statement(PageQuery q) {
    List<String> where = new ArrayList<>();
    Tuple params = Tuple.tuple();
    if (q.url() != null) {
      params.addString(q.url().key());
      where.add("url_key = $" + params.size());
    }
    if (q.host() != null) {
      params.addString(q.host());
      where.add("host = $" + params.size());
    }
    if (q.jobId() != null) {
      params.addString(q.jobId());
      where.add("job_id = $" + params.size() + "::uuid");
    }
    if (q.after() != null) {
      params.addLong(decode(q.after()));
      where.add("id " + (q.oldestFirst() ? ">" : "<") + " $" + params.size());
    }
    if (q.afterId() != null) {
      params.addLong(q.afterId());
      where.add("id " + (q.oldestFirst() ? ">" : "<") + " $" + params.size());
    }
    if (q.maxAgeSeconds() != null) {
      params.addLong(q.maxAgeSeconds());
      where.add("fetched_at >= now() - make_interval(secs => $" + params.size() + ")");
    }
    if (q.succeeded()) {
      where.add("error IS NULL AND status IS DISTINCT FROM 304"); // a page with its body
    }
    if (q.latest()) {
      // No newer page of the same URL among those the job and succeeded filters keep: one probe of V1's
      // pages_url_key_newest (url_key, id DESC) per row, that stops at the first newer copy.
      String newer = "n.url_key = pages.url_key AND n.id > pages.id";
      if (q.jobId() != null) {
        newer += " AND n.job_id = pages.job_id";
      }
      if (q.succeeded()) {
        newer += " AND n.error IS NULL AND n.status IS DISTINCT FROM 304";
      }
      where.add("NOT EXISTS (SELECT 1 FROM pages n WHERE " + newer + ")");
    }
    // One row more than asked tells whether there is a next page without a count.
    params.addInteger(q.limit() + 1);
    String sql = Sql.FIND_PAGES + (where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where))
        + " ORDER BY id " + (q.oldestFirst() ? "ASC" : "DESC") + " LIMIT $" + params.size();
    if (q.skip() > 0) {
      params.addInteger(q.skip());
      sql += " OFFSET $" + params.size();
    }
    return new Statement(sql, params);
  }

  static String encode(long id) {
    return Cursors.encodeId(CURSOR_PREFIX, id);
  }

  static long decode(String cursor) {
    return Cursors.decodeId(cursor, CURSOR_PREFIX, "this service");
  }
}
