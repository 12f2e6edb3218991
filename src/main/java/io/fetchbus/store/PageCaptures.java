package io.fetchbus.store;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.PageQuery;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * {@link Bus#PAGES_CAPTURES}: what the WARC export writes of pages, read in bounded bites. The bodies asked for are
 * weighed before any is read, so that no answer holds more than {@link PageQuery#MAX_CONTENT_BYTES}, whoever asks.
 */
final class PageCaptures {
  /** Pages one request may name. */
  static final int MAX_IDS = 500;

  private final Pool pool;

  PageCaptures(Pool pool) {
    this.pool = pool;
  }

  Future<JsonObject> captures(JsonObject req) {
    if (!(req.getValue("ids") instanceof JsonArray list) || list.isEmpty() || list.size() > MAX_IDS) {
      throw Failure.INVALID.exception("ids: must be an array of 1 to " + MAX_IDS + " page ids");
    }
    Long[] ids = new Long[list.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = Pages.id(new JsonObject().put("id", list.getValue(i)));
    }
    return pool.preparedQuery(Sql.BODY_BYTES).execute(Tuple.of(ids)).compose(weighed -> {
      long bytes = weighed.iterator().next().getLong("bytes");
      if (ids.length > 1 && bytes > PageQuery.MAX_CONTENT_BYTES) {
        throw Failure.INVALID.exception("ids: their bodies weigh " + bytes + " bytes, over the "
            + PageQuery.MAX_CONTENT_BYTES + " one request may read: ask for fewer pages at once");
      }
      return pool.preparedQuery(Sql.CAPTURES_BY_PAGE_IDS).execute(Tuple.of(ids));
    }).map(rows -> {
      JsonArray items = new JsonArray();
      for (Row r : rows) {
        items.add(new JsonObject().put("id", r.getLong("id")).put("requestHead", r.getString("request_head"))
            .put("responseHead", r.getString("response_head")).put("peerIp", r.getString("peer_ip"))
            .put("body", r.getBuffer("body")));
      }
      return new JsonObject().put("items", items);
    });
  }
}
