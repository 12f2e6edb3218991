package io.fetchbus.support;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** Crawl and batch jobs through the REST API, as a client would drive them. */
public final class JobClient {
  private JobClient() {}

  /** Submits a crawl and answers its id; fails unless the answer is 202. */
  public static Future<String> crawl(ServiceUnderTest fb, JsonObject spec) {
    return fb.http.post("/v1/crawls").sendJsonObject(spec).map(resp -> {
      if (resp.statusCode() != 202) {
        throw new AssertionError("POST /v1/crawls answered " + resp.statusCode() + ": " + resp.bodyAsString());
      }
      return resp.bodyAsJsonObject().getString("id");
    });
  }

  /** The job's status, once {@code until} holds for it; asks again every 50 ms (the test's timeout bounds this). */
  public static Future<JsonObject> await(ServiceUnderTest fb, String statusUrl, Predicate<JsonObject> until) {
    return fb.get(statusUrl).compose(resp -> {
      JsonObject job = resp.bodyAsJsonObject();
      if (resp.statusCode() == 200 && until.test(job)) {
        return Future.succeededFuture(job);
      }
      return fb.vertx.timer(50).compose(t -> await(fb, statusUrl, until));
    });
  }

  /** The job's status once it is completed, cancelled or failed. */
  public static Future<JsonObject> finished(ServiceUnderTest fb, String statusUrl) {
    return await(fb, statusUrl, job -> List.of("completed", "cancelled", "failed").contains(job.getString("status")));
  }

  /** Every item of a paginated listing, following {@code next} to the end. */
  public static Future<List<JsonObject>> all(ServiceUnderTest fb, String path) {
    return all(fb, path, null, new ArrayList<>());
  }

  private static Future<List<JsonObject>> all(ServiceUnderTest fb, String path, String after, List<JsonObject> acc) {
    String url = path + (path.contains("?") ? "&" : "?") + "limit=7" + (after == null ? "" : "&after=" + after);
    return fb.get(url).compose(resp -> {
      if (resp.statusCode() != 200) {
        throw new AssertionError("GET " + url + " answered " + resp.statusCode() + ": " + resp.bodyAsString());
      }
      JsonObject page = resp.bodyAsJsonObject();
      JsonArray items = page.getJsonArray("items");
      items.forEach(o -> acc.add((JsonObject) o));
      String next = page.getString("next");
      return next == null ? Future.succeededFuture(acc) : all(fb, path, next, acc);
    });
  }
}
