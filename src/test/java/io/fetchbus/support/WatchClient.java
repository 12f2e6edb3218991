package io.fetchbus.support;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;

/** Watches through the REST API, as a client would drive them. */
public final class WatchClient {
  private WatchClient() {}

  /**
   * The service's config for a watch test: the scheduler looking only once an hour (the test runs watches itself),
   * intervals from 10 s, no fetch retries; {@code watches} laid over that.
   */
  public static JsonObject config(JsonObject watches) {
    return new JsonObject()
        .put("watches", new JsonObject().put("pollMs", 3_600_000).put("minIntervalSeconds", 10).mergeIn(watches))
        .put("fetch", new JsonObject().put("retry", new JsonObject().put("max", 0)));
  }

  /** {@code POST /v1/watches}: the answer as it came, for the test to check. */
  public static Future<HttpResponse<Buffer>> create(ServiceUnderTest fb, JsonObject spec) {
    return fb.http.post("/v1/watches").sendJsonObject(spec);
  }

  /** Runs the watch now and answers the run; fails unless the answer is 200. */
  public static Future<JsonObject> run(ServiceUnderTest fb, String id) {
    return fb.http.post("/v1/watches/" + id + "/run").send().map(resp -> {
      if (resp.statusCode() != 200) {
        throw new AssertionError("POST /v1/watches/" + id + "/run answered " + resp.statusCode() + ": "
            + resp.bodyAsString());
      }
      return resp.bodyAsJsonObject();
    });
  }
}
