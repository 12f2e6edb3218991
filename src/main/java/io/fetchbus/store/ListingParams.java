package io.fetchbus.store;

import io.fetchbus.bus.Failure;
import io.fetchbus.bus.Fields;
import io.vertx.core.json.JsonObject;

/**
 * The fields every store request of a job or a watch reads the same way: the {@code id} of the thing asked for and
 * the {@code limit} of a listing's page. One reader, so that jobs and watches answer a bad id or limit alike.
 */
final class ListingParams {
  /** The largest page of any listing. */
  static final int MAX_LIMIT = 100;

  private ListingParams() {}

  /**
   * The {@code id} of a {@code thing} ("job", "watch"): a 400 when it is not a string; anything that is not a UUID
   * names no {@code thing}, the same 404 as an unknown one.
   */
  static String id(JsonObject req, String thing) {
    Object id = req.getValue("id");
    if (!(id instanceof String s)) {
      throw Failure.INVALID.exception("id: must be a " + thing + " id (a UUID)");
    }
    try {
      return Fields.uuid("id", s, "a UUID").toString();
    } catch (RuntimeException e) {
      throw Failure.NOT_FOUND.exception("there is no " + thing + " " + s);
    }
  }

  /** The page size: {@code dflt} when absent, else a whole number from 1 to {@link #MAX_LIMIT} (a 400 otherwise). */
  static int limit(JsonObject req, int dflt) {
    Object v = req.getValue("limit");
    if (v == null) {
      return dflt;
    }
    String s = v.toString();
    if (!s.matches("\\d{1,4}") || Integer.parseInt(s) < 1 || Integer.parseInt(s) > MAX_LIMIT) {
      throw Failure.INVALID.exception("limit: must be a whole number between 1 and " + MAX_LIMIT);
    }
    return Integer.parseInt(s);
  }
}
