package io.fetchbus.api;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.MemberRouter;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;

/**
 * {@code GET /ready}: ready when every verticle of this node is deployed, it is not shutting down, and the store can
 * reach PostgreSQL. The store is asked over the bus, so on a node without the store role this checks the store nodes
 * of the cluster.
 */
final class Readiness {
  private Readiness() {}

  static HealthChecks of(Vertx vertx) {
    HealthChecks checks = HealthChecks.create(vertx);
    if (vertx.isClustered()) {
      // Reported, not failed: a split leaves both halves able to serve, and taking both out would stop everything.
      checks.register("cluster", promise -> {
        Object outside = vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_OUTSIDE);
        JsonArray ids = new JsonArray();
        if (outside instanceof String s && !s.isEmpty()) {
          for (String id : s.split(",")) {
            ids.add(id);
          }
        }
        JsonObject data = new JsonObject().put("outsideNodes", ids);
        if (!ids.isEmpty()) {
          data.put("detail", "nodes outside this cluster use its database: a split cluster, or a node cut off");
        }
        promise.complete(Status.OK(data));
      });
    }
    return checks
        .register("deployed", promise -> promise.complete(
            Boolean.TRUE.equals(vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_DEPLOYED)) ? Status.OK() : Status.KO()))
        .register("running", promise -> promise.complete(
            vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_SHUTDOWN_DEADLINE) == null ? Status.OK()
                : Status.KO(new JsonObject().put("detail", "shutting down"))))
        .register("store", 3_000, promise -> MemberRouter.request(vertx, Bus.STORE_PING, new JsonObject(),
                new DeliveryOptions().setSendTimeout(2_500))
            .onComplete(ar -> promise.complete(ar.succeeded() ? Status.OK()
                : Status.KO(new JsonObject().put("detail", ar.cause().getMessage())))));
  }
}
