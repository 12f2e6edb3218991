package io.fetchbus.api;

import io.fetchbus.bus.Bus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code GET /v1/cluster}: this node, and the fetch nodes it hears on {@link Bus#FETCH_NODES} with what each has
 * fetched, the view the fetch nodes route by. One per API verticle instance, on its event loop.
 */
final class ClusterView {
  private final Vertx vertx;
  private final JsonObject config;
  private final long nodeTimeoutMs;
  /** Fetch node id -> its last heartbeat and when it arrived. */
  private final Map<String, Heard> nodes = new TreeMap<>();

  private record Heard(JsonObject beat, long at) {}

  ClusterView(Vertx vertx, JsonObject config, long nodeTimeoutMs) {
    this.vertx = vertx;
    this.config = config;
    this.nodeTimeoutMs = nodeTimeoutMs;
  }

  Future<Void> start() {
    return vertx.eventBus().<JsonObject>consumer(Bus.FETCH_NODES, this::heard).completion();
  }

  private void heard(Message<JsonObject> msg) {
    JsonObject beat = msg.body();
    String node = beat == null ? null : beat.getString("node");
    if (node == null) {
      return;
    }
    if (beat.getBoolean("leaving", false)) {
      nodes.remove(node);
    } else {
      nodes.put(node, new Heard(beat, System.currentTimeMillis()));
    }
  }

  void handle(RoutingContext ctx) {
    long now = System.currentTimeMillis();
    nodes.values().removeIf(h -> now - h.at() > nodeTimeoutMs);
    JsonArray fetchNodes = new JsonArray();
    nodes.forEach((id, h) -> fetchNodes.add(new JsonObject().put("id", id)
        .put("fetches", h.beat().getLong("fetches", 0L))
        .put("inFlight", h.beat().getInteger("inFlight", 0))
        .put("heardMsAgo", now - h.at())));
    ctx.json(new JsonObject()
        .put("node", vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_ID))
        .put("clustered", vertx.isClustered())
        .put("roles", config.getJsonArray("roles")) // MainVerticle sets them, checked, before deploying the API
        .put("fetchNodes", fetchNodes));
  }
}
