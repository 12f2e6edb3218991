package io.fetchbus.api;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.MemberRouter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import java.util.function.Function;

/** The watch routes, {@code /v1/watches}: each is one bus request. */
final class WatchRoutes {
  private final Vertx vertx;
  private final DeliveryOptions delivery;
  private final DeliveryOptions runDelivery;
  private final Function<RoutingContext, JsonObject> jsonBody;

  /**
   * A run fetches its URLs one by one, so its answer may take a while: {@code runTimeoutMs} bounds the wait (the run
   * goes on past it and is recorded when it ends).
   */
  WatchRoutes(Vertx vertx, long storeTimeoutMs, long runTimeoutMs, Function<RoutingContext, JsonObject> jsonBody) {
    this.vertx = vertx;
    this.delivery = new DeliveryOptions().setSendTimeout(storeTimeoutMs);
    this.runDelivery = new DeliveryOptions().setSendTimeout(runTimeoutMs);
    this.jsonBody = jsonBody;
  }

  void mount(RouterBuilder builder) {
    builder.getRoute("createWatch").addHandler(this::create);
    builder.getRoute("listWatches").addHandler(ctx -> request(ctx, Bus.WATCHES_LIST, query(ctx, "limit", "after"),
        delivery).onSuccess(ctx::json));
    builder.getRoute("getWatch").addHandler(ctx -> request(ctx, Bus.WATCHES_GET, id(ctx), delivery)
        .onSuccess(ctx::json));
    builder.getRoute("deleteWatch").addHandler(ctx -> request(ctx, Bus.WATCHES_DELETE, id(ctx), delivery)
        .onSuccess(v -> ctx.response().setStatusCode(204).end()));
    builder.getRoute("runWatch").addHandler(ctx -> request(ctx, Bus.WATCHES_RUN, id(ctx), runDelivery)
        .onSuccess(ctx::json));
    builder.getRoute("listWatchChanges").addHandler(ctx -> request(ctx, Bus.WATCHES_CHANGES,
        query(ctx, "url", "limit", "after").put("id", ctx.pathParam("id")), delivery).onSuccess(ctx::json));
  }

  /** 201 with the watch and its Location. */
  private void create(RoutingContext ctx) {
    JsonObject req;
    try {
      req = new JsonObject().put("spec", jsonBody.apply(ctx)).put("keyName", ctx.<String>get(ApiKeys.KEY_NAME));
    } catch (RuntimeException e) {
      ctx.fail(e);
      return;
    }
    request(ctx, Bus.WATCHES_CREATE, req, delivery).onSuccess(watch -> ctx.response().setStatusCode(201)
        .putHeader("Content-Type", "application/json")
        .putHeader("Location", "/v1/watches/" + watch.getString("id")).end(watch.encode()));
  }

  private static JsonObject id(RoutingContext ctx) {
    return new JsonObject().put("id", ctx.pathParam("id"));
  }

  private static JsonObject query(RoutingContext ctx, String... names) {
    JsonObject req = new JsonObject();
    for (String name : names) {
      if (ctx.queryParams().get(name) != null) {
        req.put(name, ctx.queryParams().get(name));
      }
    }
    return req;
  }

  private Future<JsonObject> request(RoutingContext ctx, String address, JsonObject body, DeliveryOptions options) {
    return MemberRouter.<JsonObject>request(vertx, address, body, new DeliveryOptions(options)
            .addHeader(Bus.REQUEST_ID, ctx.<String>get(RequestLog.REQUEST_ID)))
        .map(Message::body)
        .onFailure(ctx::fail);
  }
}
