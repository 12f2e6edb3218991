package io.fetchbus.support;

import io.fetchbus.MainVerticle;
import io.fetchbus.bus.Bus;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.Map;

/** The whole service, deployed into a test's Vert.x the way the launcher deploys it, on a free port. */
public final class ServiceUnderTest {
  public final Vertx vertx;
  public final int port;
  public final WebClient http;

  private ServiceUnderTest(Vertx vertx, int port) {
    this.vertx = vertx;
    this.port = port;
    // Enough connections that requests a test holds open never queue the test's other requests behind them.
    this.http = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port),
        new PoolOptions().setHttp1MaxSize(64));
  }

  /** A client of a service running elsewhere, e.g. the fat jar in a child process, listening on {@code port}. */
  public static ServiceUnderTest at(Vertx vertx, int port) {
    return new ServiceUnderTest(vertx, port);
  }

  /** Test defaults: the test database, port 0, small instance counts; {@code overrides} win. */
  public static JsonObject config(JsonObject overrides) {
    JsonObject base = new JsonObject()
        .put("http", new JsonObject().put("port", 0).put("instances", 1))
        .put("pg", new JsonObject().put("url", TestDatabase.url()))
        // The upstreams of the tests live on 127.0.0.1, which the guard refuses by default.
        .put("fetch", new JsonObject().put("instances", 2).put("guard", new JsonObject().put("allowPrivateNetworks", true)))
        .put("extract", new JsonObject().put("instances", 1))
        // Tests fire requests in bursts; AdmissionTest sets its own limits.
        .put("limits", new JsonObject().put("ratePerSecond", 10_000.0).put("burst", 10_000))
        // Pages become searchable within a refresh: a short one keeps the tests that search quick.
        .put("search", new JsonObject().put("refreshMs", 50))
        // Closing a test's Vert.x shuts the service down gracefully: a short grace keeps that quick.
        .put("shutdown", new JsonObject().put("graceMs", 2_000));
    return base.mergeIn(overrides, true);
  }

  /** Deploys with an empty environment, so the machine's {@code FETCHBUS_*} variables do not leak in. */
  public static Future<ServiceUnderTest> deploy(Vertx vertx, JsonObject overrides) {
    return vertx.deployVerticle(new MainVerticle(Map.of()), new DeploymentOptions().setConfig(config(overrides)))
        .map(id -> new ServiceUnderTest(vertx, (Integer) vertx.sharedData().getLocalMap(Bus.NODE_INFO).get(Bus.NODE_HTTP_PORT)));
  }

  /** Deploys (which migrates the schema), then empties the tables, so each test starts from nothing. */
  public static Future<ServiceUnderTest> fresh(Vertx vertx, JsonObject overrides) {
    return deploy(vertx, overrides).compose(fb -> TestDatabase.truncate(vertx).map(fb));
  }

  public Future<HttpResponse<Buffer>> postFetch(JsonObject body) {
    return http.post("/v1/fetch").sendJsonObject(body);
  }

  public Future<HttpResponse<Buffer>> get(String path) {
    return http.get(path).send();
  }
}
