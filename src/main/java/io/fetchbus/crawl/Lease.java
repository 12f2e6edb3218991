package io.fetchbus.crawl;

import io.vertx.core.json.JsonObject;

/** A frontier entry this node holds a lease on; {@code token} fences what it may write back. */
record Lease(String jobId, String urlKey, String url, String host, int depth, int attempts, String token) {
  static Lease from(JsonObject j) {
    return new Lease(j.getString("jobId"), j.getString("urlKey"), j.getString("url"), j.getString("host"),
        j.getInteger("depth"), j.getInteger("attempts"), j.getString("token"));
  }

  JsonObject ref() {
    return new JsonObject().put("jobId", jobId).put("urlKey", urlKey).put("token", token);
  }

  String hostKey() {
    return jobId + " " + host;
  }
}
