package io.fetchbus.support;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;

/** Watches through the REST API, as a client would drive them. */
public final class WatchClient {
  private WatchClient() {}

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
