package io.fetchbus.store;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.Rendezvous;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@link Bus#ORIGIN_LEASES}: one round of a fetch node's origin leases (migration V16, {@code origin_leases_round}), in
 * one statement. The fetch node decides what to ask for and keeps its leases' validity by its own clock; this only
 * checks the request and hands it to PostgreSQL, whose clock alone decides when a lease has run out.
 */
final class OriginLeaseRounds {
  /** A node id (a UUID in a cluster); the owner column compares it as text. */
  private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9-]{1,64}");
  /** A lease shorter than a second could not be renewed in time; one longer than 10 minutes would hold origins long. */
  static final long MIN_LEASE_MS = 1_000;
  static final long MAX_LEASE_MS = 600_000;

  private final Pool pool;

  OriginLeaseRounds(Pool pool) {
    this.pool = pool;
  }

  Future<JsonObject> round(JsonObject req) {
    String node = req.getString("node");
    if (node == null || !NODE_ID.matcher(node).matches()) {
      throw Failure.INVALID.exception("node: must be a node id");
    }
    Long leaseMs = req.getValue("leaseMs") instanceof Number n ? n.longValue() : null;
    if (leaseMs == null || leaseMs < MIN_LEASE_MS || leaseMs > MAX_LEASE_MS) {
      throw Failure.INVALID.exception("leaseMs: must be between " + MIN_LEASE_MS + " and " + MAX_LEASE_MS);
    }
    Integer[] acquire = buckets(req.getJsonArray("acquire", new JsonArray()), "acquire");
    List<Integer> renew = new ArrayList<>();
    List<Long> renewTokens = new ArrayList<>();
    leases(req.getJsonArray("renew", new JsonArray()), "renew", renew, renewTokens);
    List<Integer> release = new ArrayList<>();
    List<Long> releaseTokens = new ArrayList<>();
    leases(req.getJsonArray("release", new JsonArray()), "release", release, releaseTokens);
    Tuple params = Tuple.of(node, leaseMs, acquire, renew.toArray(Integer[]::new), renewTokens.toArray(Long[]::new),
        release.toArray(Integer[]::new), releaseTokens.toArray(Long[]::new));
    return pool.preparedQuery(Sql.ORIGIN_LEASES_ROUND).execute(params).map(rows -> {
      JsonArray leases = new JsonArray();
      for (Row r : rows) {
        leases.add(new JsonObject().put("bucket", r.getInteger("bucket")).put("node", r.getString("owner"))
            .put("token", r.getLong("token")).put("untilMs", r.getLong("until_ms")).put("msLeft", r.getLong("ms_left")));
      }
      return new JsonObject().put("leases", leases);
    });
  }

  private static Integer[] buckets(JsonArray array, String field) {
    if (array.size() > Rendezvous.BUCKETS) {
      throw Failure.INVALID.exception(field + ": at most " + Rendezvous.BUCKETS + " buckets");
    }
    Integer[] out = new Integer[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = bucket(array.getValue(i), field);
    }
    return out;
  }

  private static void leases(JsonArray array, String field, List<Integer> buckets, List<Long> tokens) {
    if (array.size() > Rendezvous.BUCKETS) {
      throw Failure.INVALID.exception(field + ": at most " + Rendezvous.BUCKETS + " leases");
    }
    for (Object o : array) {
      if (!(o instanceof JsonObject lease) || !(lease.getValue("token") instanceof Number token)) {
        throw Failure.INVALID.exception(field + ": each must be {\"bucket\", \"token\"}");
      }
      buckets.add(bucket(lease.getValue("bucket"), field));
      tokens.add(token.longValue());
    }
  }

  private static int bucket(Object value, String field) {
    if ((value instanceof Integer || value instanceof Long) && ((Number) value).longValue() >= 0
        && ((Number) value).longValue() < Rendezvous.BUCKETS) {
      return ((Number) value).intValue();
    }
    throw Failure.INVALID.exception(field + ": buckets are whole numbers from 0 to " + (Rendezvous.BUCKETS - 1));
  }
}
