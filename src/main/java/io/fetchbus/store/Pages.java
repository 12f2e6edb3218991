package io.fetchbus.store;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.ContentFormats;
import io.fetchbus.bus.Extraction;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.Fields;
import io.fetchbus.bus.MediaTypes;
import io.fetchbus.bus.Page;
import io.fetchbus.bus.PageQuery;
import io.fetchbus.bus.SavePage;
import io.fetchbus.bus.SearchRequest;
import io.fetchbus.bus.WebUrl;
import io.fetchbus.ops.Meters;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The pages' side of the store: saving a fetch (group commit through {@link PageWriter}), reading one page or its
 * body, listing and searching pages with the formats asked for (markdown made once, when first asked for, and kept),
 * marking a stored copy revalidated, and deleting pages ({@link PageDeletion}). The store verticle routes the
 * {@code fetchbus.pages.*} addresses here, as it routes jobs to {@link Jobs} and the frontier to {@link Frontier}.
 * Used from the store verticle's event loop only.
 */
final class Pages {
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

  private final Vertx vertx;
  private final Pool pool;
  private final PageWriter writer;
  private final Extraction extraction;
  /** Null when search is off. */
  private final SearchIndexer indexer;
  private final PageDeletion deletion;
  /** A crawl lease ({@code crawl.leaseMs}): how long a cancelled job's deletion waits for its fetches in flight. */
  private final long leaseMs;

  Pages(Vertx vertx, Pool pool, PageWriter writer, Extraction extraction, SearchIndexer indexer, PageDeletion deletion,
        long leaseMs) {
    this.vertx = vertx;
    this.pool = pool;
    this.writer = writer;
    this.extraction = extraction;
    this.indexer = indexer;
    this.deletion = deletion;
    this.leaseMs = leaseMs;
  }

  Future<JsonObject> save(JsonObject json) {
    SavePage p = SavePage.from(json);
    WebUrl url = WebUrl.parse("url", p.url());
    if (p.body() != null && (p.sha256() == null || !SHA256.matcher(p.sha256()).matches())) {
      throw Failure.INVALID.exception("sha256: a body needs its SHA-256 as 64 lower-case hex digits");
    }
    Tuple params = PageRows.insertParams(p, url, null, indexer != null);
    return writer.insert(params).compose(rows -> {
      if (rows.size() == 1) {
        Row r = rows.iterator().next();
        Page page = new Page(r.getLong("id"), r.getString("fetch_id"), url.toString(), p.finalUrl(), url.host(),
            p.status(), p.contentType(), p.headers(), p.body() == null ? null : (long) p.body().length(),
            p.body() == null ? null : p.sha256(), p.title(), p.fetchedAt(), p.elapsedMs(), p.timing(), p.retries(),
            p.error(), p.errorClass(), null, p.extracted().getJsonObject("metadata"), false);
        vertx.eventBus().publish(Bus.PAGE_STORED, page.toJson());
        Meters.of(vertx).pageStored(p.error() != null);
        return Future.succeededFuture(new JsonObject().put("page", page.toJson()).put("created", true));
      }
      // This fetch was saved before (a cache hit or a joined fetch saving again): answer with that page.
      return pool.preparedQuery(Sql.PAGE_BY_FETCH_ID).execute(Tuple.of(p.fetchId()))
          .map(existing -> new JsonObject().put("page", single(existing, "fetch " + p.fetchId()).toJson())
              .put("created", false));
    });
  }

  Future<JsonObject> get(JsonObject req) {
    Set<String> formats = ContentFormats.from(req);
    if (!formats.equals(ContentFormats.DEFAULT)) {
      long id = id(req);
      return pool.preparedQuery(Sql.PAGE_BY_ID).execute(Tuple.of(id)).compose(rows -> {
        JsonObject page = single(rows, "page " + id).toJson();
        return pool.preparedQuery(Sql.FORMATS_BY_PAGE_ID)
            .execute(Tuple.of(id, formats.contains("html"), formats.contains(ContentFormats.MARKDOWN)))
            .compose(f -> {
              Row r = f.iterator().next();
              return markdown(id, r, formats).map(markdown -> withFormats(page, r, formats, markdown));
            });
      });
    }
    if (req.getValue("fetchId") != null) {
      String fetchId = req.getValue("fetchId").toString();
      Fields.uuid("fetchId", fetchId, "a UUID");
      return pool.preparedQuery(Sql.PAGE_BY_FETCH_ID).execute(Tuple.of(fetchId))
          .map(rows -> single(rows, "fetch " + fetchId).toJson());
    }
    long id = id(req);
    return pool.preparedQuery(Sql.PAGE_BY_ID).execute(Tuple.of(id)).map(rows -> single(rows, "page " + id).toJson());
  }

  /** {@link Bus#PAGES_DELETE}: by ids, or every page of a job. */
  Future<JsonObject> delete(JsonObject req) {
    if (req.getValue("jobId") != null) {
      String jobId = Jobs.jobId(new JsonObject().put("id", req.getValue("jobId")));
      // A cancelled job's fetches in flight may still store pages: deleted as they come, for settleMs at most (at
      // most a lease: by then the leases of fetches still in flight have ended).
      long settleMs = Math.max(0, Math.min(leaseMs, req.getLong("settleMs", 0L)));
      return deletion.deleteJob(jobId, settleMs).map(n -> new JsonObject().put("deleted", n));
    }
    if (!(req.getValue("ids") instanceof JsonArray ids) || ids.isEmpty() || ids.size() > PageDeletion.BATCH) {
      throw Failure.INVALID.exception("ids: must be an array of 1 to " + PageDeletion.BATCH + " page ids, or jobId a job id");
    }
    Long[] pageIds = new Long[ids.size()];
    for (int i = 0; i < pageIds.length; i++) {
      pageIds[i] = id(new JsonObject().put("id", ids.getValue(i)));
    }
    return deletion.delete(pageIds, "request").map(n -> new JsonObject().put("deleted", n));
  }

  Future<JsonObject> revalidated(JsonObject req) {
    long id = id(req);
    return pool.preparedQuery(Sql.REVALIDATE_PAGE).execute(Tuple.of(id)).map(rows -> {
      JsonObject page = single(rows, "stored copy with id " + id).toJson();
      vertx.eventBus().publish(Bus.PAGE_REVALIDATED, page);
      return page;
    });
  }

  Future<JsonObject> content(JsonObject req) {
    long id = id(req);
    return pool.preparedQuery(Sql.CONTENT_BY_PAGE_ID).execute(Tuple.of(id)).map(rows -> {
      if (rows.size() == 0) {
        throw Failure.NOT_FOUND.exception("there is no page " + id);
      }
      Row r = rows.iterator().next();
      if (r.getBuffer("body") == null) {
        throw Failure.NOT_FOUND.exception("page " + id + " has no stored body: its fetch failed ("
            + r.getString("error") + ")");
      }
      return new JsonObject().put("contentType", r.getString("content_type")).put("body", r.getBuffer("body"));
    });
  }

  Future<JsonObject> find(JsonObject req) {
    PageQuery query = PageQuery.from(req);
    PageFinder.Statement st = PageFinder.statement(query);
    return pool.preparedQuery(st.sql()).execute(st.params()).compose(rows -> {
      List<JsonObject> items = new ArrayList<>();
      boolean more = false;
      for (Row r : rows) {
        if (items.size() == query.limit()) {
          more = true;
          break;
        }
        items.add(PageRows.page(r).toJson());
      }
      return query.formats().equals(ContentFormats.DEFAULT) || items.isEmpty() ? Future.succeededFuture(listing(items, more))
          : withContent(items, query.formats(), more);
    });
  }

  /** A listing's answer: the items, and the cursor after the last of them when more follow. */
  private static JsonObject listing(List<JsonObject> items, boolean more) {
    return new JsonObject().put("items", new JsonArray(new ArrayList<>(items))).put("next",
        more ? PageFinder.encode(items.get(items.size() - 1).getLong("id")) : null);
  }

  /**
   * The listed pages with the formats asked for, as many of them, in order, as fit in {@link
   * PageQuery#MAX_CONTENT_BYTES} (one at least): their sizes are read first, so no answer, however large the
   * pages, holds more than that; the cursor then goes on after the last page that fit. Markdown a page was stored
   * without is made now and kept, as for a single page.
   */
  private Future<JsonObject> withContent(List<JsonObject> items, Set<String> formats, boolean more) {
    Long[] ids = items.stream().map(p -> p.getLong("id")).toArray(Long[]::new);
    return pool.preparedQuery(Sql.CONTENT_SIZES).execute(Tuple.of(ids, formats.contains("links"))).compose(sizes -> {
      Map<Long, Long> weight = new HashMap<>();
      for (Row r : sizes) {
        weight.put(r.getLong("id"), (formats.contains("text") ? r.getLong("text_bytes") : 0)
            + (formats.contains(ContentFormats.MARKDOWN) ? r.getLong("markdown_bytes") : 0)
            + (formats.contains("html") ? r.getLong("body_bytes") : 0) + r.getLong("links_bytes"));
      }
      int fit = 0;
      long total = 0;
      while (fit < items.size() && (fit == 0 || total + weight.getOrDefault(ids[fit], 0L) <= PageQuery.MAX_CONTENT_BYTES)) {
        total += weight.getOrDefault(ids[fit], 0L);
        fit++;
      }
      List<JsonObject> kept = items.subList(0, fit);
      boolean cut = fit < items.size();
      return pool.preparedQuery(Sql.FORMATS_BY_PAGE_IDS).execute(Tuple.of(Arrays.copyOf(ids, fit),
              formats.contains("text"), formats.contains(ContentFormats.MARKDOWN), formats.contains("links"),
              formats.contains("html")))
          .compose(rows -> {
            Map<Long, Row> byId = new HashMap<>();
            rows.forEach(r -> byId.put(r.getLong("id"), r));
            // One page at a time: markdown to make is worker work, and a listing should not take every worker.
            Future<Void> chain = Future.succeededFuture();
            for (JsonObject page : kept) {
              Row r = byId.get(page.getLong("id"));
              if (r != null) {
                chain = chain.compose(v -> markdown(page.getLong("id"), r, formats)
                    .map(md -> {
                      withFormats(page, r, formats, md);
                      return null;
                    }));
              }
            }
            return chain.map(v -> listing(kept, more || cut));
          });
    });
  }

  /** The matches, and how far behind the index is ({@code lag}): pages stored since are not found yet. */
  Future<JsonObject> search(JsonObject req) {
    SearchRequest search = SearchRequest.from(req);
    if (indexer == null) {
      throw Failure.NOT_FOUND.exception("search is turned off on this service (search.enabled is false): "
          + "stored pages are not indexed");
    }
    return Future.all(matches(search), indexer.lag(10_000)).map(both -> both.<JsonObject>resultAt(0).put("lag", both.resultAt(1)));
  }

  private Future<JsonObject> matches(SearchRequest search) {
    return pool.preparedQuery(Sql.SEARCH_PAGES).execute(PageSearch.params(search)).map(rows -> {
      JsonArray items = new JsonArray();
      Row last = null;
      for (Row r : rows) {
        if (items.size() == search.limit()) {
          return new JsonObject().put("items", items)
              .put("next", PageSearch.encode(last.getFloat("rank"), last.getLong("id")));
        }
        items.add(PageRows.page(r).toJson().put("rank", r.getFloat("rank"))
            .put("snippet", PageSearch.snippet(r.getString("snippet"))));
        last = r;
      }
      return new JsonObject().put("items", items).putNull("next");
    });
  }

  /**
   * The page's markdown when it is asked for: stored, or made now from the stored body and kept (a page is stored
   * with markdown only when its request or job asked for it: see {@link ContentFormats#toStore}).
   */
  private Future<String> markdown(long id, Row r, Set<String> formats) {
    String stored = r.getString("markdown");
    Buffer body = r.getBuffer("body");
    if (!formats.contains(ContentFormats.MARKDOWN) || stored != null || body == null
        || !MediaTypes.isHtml(r.getString("content_type"))) {
      return Future.succeededFuture(stored);
    }
    String url = Objects.requireNonNullElse(r.getString("final_url"), r.getString("url"));
    return extraction.extract(url, r.getString("content_type"), body, List.of(ContentFormats.MARKDOWN), null)
        .compose(made -> {
          String markdown = made.getString(ContentFormats.MARKDOWN);
          return markdown == null ? Future.succeededFuture(null)
              : pool.preparedQuery(Sql.SET_MARKDOWN).execute(Tuple.of(id, markdown)).map(markdown);
        });
  }

  /** Adds the asked formats to a page record; {@code metadata} is always in it. */
  private static JsonObject withFormats(JsonObject page, Row r, Set<String> formats, String markdown) {
    if (formats.contains("text")) {
      page.put("text", r.getString("text"));
    }
    if (formats.contains("markdown")) {
      page.put("markdown", markdown);
    }
    if (formats.contains("links")) {
      page.put("links", r.getValue("links") instanceof JsonArray a ? a : null);
    }
    if (formats.contains("html")) {
      Buffer body = r.getBuffer("body");
      page.put("html", body == null ? null : body.toString(Objects.requireNonNullElse(
          MediaTypes.charset(r.getString("content_type")), "UTF-8")));
    }
    return page;
  }

  /** The positive page id of a request ({@code "id"}: a number or its digits), else a 400. */
  static long id(JsonObject req) {
    Object v = req.getValue("id");
    if (v instanceof Number n && n.longValue() > 0 && n.doubleValue() == n.longValue()) {
      return n.longValue();
    }
    if (v instanceof String s && s.matches("\\d{1,18}") && Long.parseLong(s) > 0) {
      return Long.parseLong(s);
    }
    throw Failure.INVALID.exception("id: must be a positive whole number");
  }

  private static Page single(RowSet<Row> rows, String what) {
    if (rows.size() == 0) {
      throw Failure.NOT_FOUND.exception("there is no " + what);
    }
    return PageRows.page(rows.iterator().next());
  }
}
