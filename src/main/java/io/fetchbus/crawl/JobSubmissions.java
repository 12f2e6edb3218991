package io.fetchbus.crawl;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FailureReplies;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.bus.WebUrl;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Answers {@link Bus#CRAWL_SUBMIT}: validates a crawl or batch submission, turns it into the store's
 * {@link Bus#JOBS_CREATE} request (spec, limit, seeds, the key's quota) and replies with the job created.
 */
final class JobSubmissions {
  private final Vertx vertx;
  private final CrawlSettings settings;
  /** {@code limits.maxActiveJobsPerKey}: queued and running jobs one API key may have (the store counts them). */
  private final int maxActiveJobs;
  private final DeliveryOptions storeDelivery;
  /** Run once a job is created: the crawl verticle claims its first entries at once. */
  private final Runnable onCreated;

  JobSubmissions(Vertx vertx, CrawlSettings settings, int maxActiveJobs, DeliveryOptions storeDelivery,
      Runnable onCreated) {
    this.vertx = vertx;
    this.settings = settings;
    this.maxActiveJobs = maxActiveJobs;
    this.storeDelivery = storeDelivery;
    this.onCreated = onCreated;
  }

  void submit(Message<JsonObject> msg) {
    JsonObject create;
    try {
      create = newJob(msg.body() == null ? new JsonObject() : msg.body());
    } catch (ReplyException e) {
      FailureReplies.reply(msg, e);
      return;
    }
    JsonArray invalid = create.remove("invalidUrls") instanceof JsonArray a ? a : null;
    store(Bus.JOBS_CREATE, create).onSuccess(created -> {
      JsonObject job = created.getJsonObject("job").put("created", created.getBoolean("created"));
      if (invalid != null) {
        job.put("invalidUrls", invalid);
      }
      msg.reply(job);
      onCreated.run();
    }).onFailure(err -> FailureReplies.reply(msg, err));
  }

  /** The {@link Bus#JOBS_CREATE} request for a submission: its validated spec, limit and seeds. */
  private JsonObject newJob(JsonObject req) {
    String kind = req.getString("kind", "crawl");
    if (!(req.getValue("spec") instanceof JsonObject spec)) {
      throw Failure.INVALID.exception("spec: must be a JSON object");
    }
    JsonObject create = new JsonObject().put("kind", kind)
        .put("keyName", req.getString("keyName"))
        .put("idempotencyKey", req.getString("idempotencyKey"))
        .put("requestSha256", RequestHash.of(spec))
        .put("maxActiveJobs", maxActiveJobs);
    JsonArray seeds = new JsonArray();
    switch (kind) {
      case "crawl" -> {
        CrawlSpec crawl = CrawlSpec.from(spec, settings.maxLimit());
        if (!crawl.sitemap().equals("only")) {
          seeds.add(seed(crawl.url()));
        }
        if (!crawl.sitemap().equals("skip")) {
          seeds.add(Sitemaps.entry(crawl.url()));
        }
        create.put("spec", crawl.toJson()).put("limit", crawl.limit());
      }
      case "batch" -> {
        BatchSpec batch = BatchSpec.from(spec);
        batch.urls().forEach(u -> seeds.add(seed(u)));
        create.put("spec", batch.toJson()).put("limit", Math.max(1, batch.urls().size()))
            .put("invalidUrls", batch.invalidUrls());
      }
      default -> throw Failure.INVALID.exception("kind: must be crawl or batch");
    }
    return create.put("seeds", seeds);
  }

  private static JsonObject seed(WebUrl url) {
    return LinkSelection.entry(url);
  }

  private Future<JsonObject> store(String address, JsonObject body) {
    return MemberRouter.<JsonObject>request(vertx, address, body, storeDelivery).map(Message::body);
  }
}
