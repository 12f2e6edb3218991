package io.fetchbus.crawl;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.CrawlJob;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.MemberRouter;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The crawl job of one run of a site watch: submitted as any crawl is ({@link Bus#CRAWL_SUBMIT}, under the watch's
 * key), so that the run is as durable and polite as a crawl, and worked by the crawl verticles of every node. Its
 * idempotency key names the watch and the run ({@code runs}, which only a recorded run increments): a node that takes
 * over the run of a node that died finds the same job, goes on waiting for it, and compares what it stored.
 */
final class WatchCrawls {
  /** How often a run asks whether its job has ended: a crawl is seconds to hours of work, a check is one query. */
  static final long JOB_CHECK_MS = 500;
  /** Pages and errors read in one request: the store's largest listings. */
  private static final int PAGES = io.fetchbus.bus.PageQuery.MAX_LIMIT;
  private static final int ERRORS = 100;

  private final Vertx vertx;
  private final DeliveryOptions storeDelivery;

  WatchCrawls(Vertx vertx, DeliveryOptions storeDelivery) {
    this.vertx = vertx;
    this.storeDelivery = storeDelivery;
  }

  /** The idempotency key of the run of {@code watch}: the same for every node that runs it, new for the next run. */
  static String idempotencyKey(JsonObject watch) {
    return "fetchbus-watch/" + watch.getString("id") + "/run/" + watch.getInteger("runs");
  }

  /** Submits the run's job (or finds it, when another node submitted it) and answers it once it has ended. */
  Future<CrawlJob> crawl(JsonObject watch) {
    JsonObject spec = watch.getJsonObject("spec");
    JsonObject crawl = spec.getJsonObject("crawl").copy().put("formats", spec.getJsonArray("formats"));
    JsonObject submit = new JsonObject().put("kind", "crawl").put("spec", crawl)
        .put("keyName", watch.getString("keyName")).put("idempotencyKey", idempotencyKey(watch));
    return request(Bus.CRAWL_SUBMIT, submit).compose(job -> ended(job.getString("id")));
  }

  private Future<CrawlJob> ended(String jobId) {
    Promise<CrawlJob> ended = Promise.promise();
    boolean[] asking = {false};
    long timer = vertx.setPeriodic(0, JOB_CHECK_MS, t -> {
      if (asking[0]) {
        return;
      }
      asking[0] = true;
      request(Bus.CRAWL_STATUS, new JsonObject().put("id", jobId)).onComplete(ar -> {
        asking[0] = false;
        if (ar.succeeded()) {
          CrawlJob job = CrawlJob.from(ar.result());
          if (job.finished()) {
            ended.tryComplete(job);
          }
        } else if (Failure.NOT_FOUND.is(ar.cause())) {
          ended.tryFail(Failure.CONFLICT.exception("the crawl job " + jobId + " of this run was deleted"));
        } // anything else (the store restarting): ask again at the next tick
      });
    });
    return ended.future().onComplete(ar -> vertx.cancelTimer(timer));
  }

  /** The pages the job stored, oldest first, each URL's newest, at most {@code max} (the job's limit). */
  Future<List<JsonObject>> pages(String jobId, int max) {
    List<JsonObject> out = new ArrayList<>();
    return pages(jobId, null, max, out).map(out);
  }

  private Future<Void> pages(String jobId, String after, int max, List<JsonObject> out) {
    JsonObject query = new JsonObject().put("jobId", jobId).put("latest", true).put("oldestFirst", true)
        .put("limit", Math.min(PAGES, max - out.size()));
    if (after != null) {
      query.put("after", after);
    }
    return request(Bus.PAGES_FIND, query).compose(found -> {
      found.getJsonArray("items").forEach(p -> out.add((JsonObject) p));
      String next = found.getString("next");
      return next == null || out.size() >= max ? Future.succeededFuture() : pages(jobId, next, max, out);
    });
  }

  /** The URLs the job could not fetch (failed, or disallowed by robots.txt), at most {@code max}. */
  Future<Set<String>> failed(String jobId, int max) {
    Set<String> out = new HashSet<>();
    return failed(jobId, null, max, out).map(out);
  }

  private Future<Void> failed(String jobId, String after, int max, Set<String> out) {
    JsonObject query = new JsonObject().put("id", jobId).put("limit", ERRORS);
    if (after != null) {
      query.put("after", after);
    }
    return request(Bus.CRAWL_ERRORS, query).compose(found -> {
      JsonArray items = found.getJsonArray("items");
      items.forEach(e -> out.add(((JsonObject) e).getString("url")));
      String next = found.getString("next");
      return next == null || out.size() >= max ? Future.succeededFuture() : failed(jobId, next, max, out);
    });
  }

  /** The stored body of a page: {@code {"contentType", "body"}}. */
  Future<JsonObject> content(long pageId) {
    return request(Bus.PAGES_CONTENT, new JsonObject().put("id", pageId));
  }

  private Future<JsonObject> request(String address, JsonObject body) {
    return MemberRouter.<JsonObject>request(vertx, address, body, storeDelivery).map(Message::body);
  }
}
