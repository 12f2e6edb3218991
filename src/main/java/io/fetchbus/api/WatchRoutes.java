package io.fetchbus.api;

import io.fetchbus.api.http.ApiKeys;
import io.fetchbus.api.http.RequestLog;
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

/**
 * The watch routes, {@code /v1/watches}: each is one bus request, but {@code /events}, which streams the versions of a
 * watch as runs record them (on any node: they are published on {@link Bus#WATCH_CHANGED}). Every request carries
 * the caller's key name, so that a key lists, reads, runs, deletes and streams its own watches only.
 */
final class WatchRoutes {
  static final String CHANGED_EVENT = "page.changed";
  private static final String STREAM_KIND = "watch";

  private final Vertx vertx;
  private final int maxEventStreams;
  private final int eventQueue;
  private final long eventHeartbeatMs;
  private final DeliveryOptions delivery;
  private final DeliveryOptions runDelivery;
  private final Function<RoutingContext, JsonObject> jsonBody;

  /**
   * A run fetches its URLs one by one, so its answer may take a while: {@code runTimeoutMs} bounds the wait (the run
   * goes on past it and is recorded when it ends).
   */
  WatchRoutes(Vertx vertx, long storeTimeoutMs, long runTimeoutMs, Function<RoutingContext, JsonObject> jsonBody,
              ApiSettings.WatchStreams streams) {
    this.vertx = vertx;
    this.maxEventStreams = streams.maxStreams();
    this.eventQueue = streams.queue();
    this.eventHeartbeatMs = streams.heartbeatMs();
    this.delivery = new DeliveryOptions().setSendTimeout(storeTimeoutMs);
    this.runDelivery = new DeliveryOptions().setSendTimeout(runTimeoutMs);
    this.jsonBody = jsonBody;
  }

  void mount(RouterBuilder builder) {
    builder.getRoute("createWatch").addHandler(this::create);
    builder.getRoute("listWatches").addHandler(ctx -> request(ctx, Bus.WATCHES_LIST, query(ctx, "limit", "after")
        .put("keyName", ctx.<String>get(ApiKeys.KEY_NAME)), delivery).onSuccess(ctx::json));
    builder.getRoute("getWatch").addHandler(ctx -> request(ctx, Bus.WATCHES_GET, id(ctx), delivery)
        .onSuccess(ctx::json));
    builder.getRoute("deleteWatch").addHandler(ctx -> request(ctx, Bus.WATCHES_DELETE, id(ctx), delivery)
        .onSuccess(v -> ctx.response().setStatusCode(204).end()));
    builder.getRoute("runWatch").addHandler(ctx -> request(ctx, Bus.WATCHES_RUN, id(ctx), runDelivery)
        .onSuccess(ctx::json));
    builder.getRoute("listWatchChanges").addHandler(ctx -> request(ctx, Bus.WATCHES_CHANGES,
        query(ctx, "url", "limit", "after").mergeIn(id(ctx)), delivery).onSuccess(ctx::json));
    builder.getRoute("streamWatchEvents").addHandler(this::events);
  }

  /**
   * {@code GET /v1/watches/{id}/events}: each version of the watch as a run records it, {@code event: page.changed}
   * with the version (the webhook's {@code data}) in {@code data}, until the client goes away or the node stops.
   */
  private void events(RoutingContext ctx) {
    request(ctx, Bus.WATCHES_GET, id(ctx), delivery).onSuccess(watch -> {
      EventStream events = EventStream.admit(vertx, ctx, STREAM_KIND, maxEventStreams, eventQueue, eventHeartbeatMs);
      if (events == null) {
        return;
      }
      String id = watch.getString("id");
      events.start(Bus.WATCH_CHANGED, version -> {
        if (id.equals(version.getString("watchId"))) {
          events.send(CHANGED_EVENT, version);
        }
      }).onSuccess(v -> events.comment("watching " + id));
    });
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

  /** The watch of the path, which must be the caller's key's: another key's watch is a 404, as an unknown one. */
  private static JsonObject id(RoutingContext ctx) {
    return new JsonObject().put("id", ctx.pathParam("id")).put("keyName", ctx.<String>get(ApiKeys.KEY_NAME));
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
