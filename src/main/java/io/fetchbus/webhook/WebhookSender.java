package io.fetchbus.webhook;

import io.fetchbus.bus.Backoff;
import io.fetchbus.bus.Bus;
import io.fetchbus.bus.MemberRouter;
import io.fetchbus.bus.CrawlJob;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FailureReplies;
import io.fetchbus.bus.WebUrl;
import io.fetchbus.bus.WebhookDelivery;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the webhook events of the jobs this node works on: {@code started}, {@code page}, {@code completed}
 * (a cancelled job too, with its status) and {@code failed}, in Fetchbus's shape or, for a webhook of the firecrawl
 * format, in Firecrawl's ({@link FirecrawlPayload}). Each delivery is one JSON body POSTed by a fetch
 * verticle ({@link Bus#WEBHOOK_DELIVER}, behind the destination guard), signed with HMAC-SHA256 when the
 * webhook has a secret, and tried up to {@code webhooks.maxAttempts} times with exponential backoff and
 * jitter: again after a 5xx answer, a network failure or a timeout; never after any other answer (2xx is
 * delivered, 3xx and 4xx are final) or a refused destination.
 * <p>
 * The crawl never waits for any of it: an event is queued and the caller goes on. The queue is in memory and
 * bounded ({@code webhooks.maxQueued} deliveries, counting those waiting for a retry and those in flight, and
 * {@code webhooks.maxQueuedBytes} of their bodies); past
 * it an event is dropped with a warning and counted. Deliveries go out at most {@code webhooks.maxInFlight} at
 * once and {@code webhooks.perTargetInFlight} per receiver, receivers taking turns, so that a slow receiver
 * holds up no other. Deliveries pending when the node stops are lost. Order is not kept: a retried delivery
 * arrives after later events.
 * <p>
 * Secrets: the webhook's secret and header values, and the path and query of its URL (which often carry a
 * token), are never logged; log lines name the receiver by scheme, host and port.
 */
public final class WebhookSender {
  static final String EVENT = "X-Fetchbus-Event";
  static final String DELIVERY = "X-Fetchbus-Delivery";
  static final String ATTEMPT = "X-Fetchbus-Attempt";
  static final String TIMESTAMP = "X-Fetchbus-Timestamp";
  static final String SIGNATURE = "X-Fetchbus-Signature";
  private static final Logger LOG = LoggerFactory.getLogger(WebhookSender.class);
  private static final int MAX_HOOKS = 256;
  private static final long WARN_EVERY_MS = 10_000;

  /**
   * A job's webhook as stored (secret included), with what deliveries need from its job; {@code firecrawl} for
   * Firecrawl's payloads, with their {@code metadata}.
   */
  private record Hook(String kind, WebUrl url, JsonObject headers, Set<String> events, String secret, String target,
                      boolean firecrawl, JsonObject metadata) {
    static Hook from(JsonObject stored) {
      JsonObject hook = stored.getJsonObject("webhook");
      if (hook == null) {
        return null;
      }
      WebUrl url = WebUrl.parse("webhook.url", hook.getString("url"));
      Set<String> events = new HashSet<>();
      hook.getJsonArray("events", new JsonArray()).forEach(e -> events.add((String) e));
      return new Hook(stored.getString("kind"), url, hook.getJsonObject("headers", new JsonObject()), events,
          hook.getString("secret"), url.origin(), Webhook.FIRECRAWL.equals(hook.getString("format")),
          hook.getJsonObject("metadata", new JsonObject()));
    }
  }

  /** One event on its way to one receiver; the body and id stay the same over its attempts. */
  private static final class Delivery {
    final String id;
    final String jobId;
    final String event;
    final Hook hook;
    final String body;
    /** What the body weighs against {@code webhooks.maxQueuedBytes}: its characters, at most 4 bytes each in UTF-8. */
    final long weight;
    int attempts;

    Delivery(String id, String jobId, String event, Hook hook, String body) {
      this.id = id;
      this.jobId = jobId;
      this.event = event;
      this.hook = hook;
      this.body = body;
      this.weight = (long) body.length() * 2; // a String's own size on the heap, near enough
    }
  }

  private final Vertx vertx;
  private final WebhookSettings settings;
  private final DeliveryOptions storeDelivery;
  private final DeliveryOptions deliverDelivery;
  private final Map<String, Future<Hook>> hooks = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Future<Hook>> eldest) {
      return size() > MAX_HOOKS;
    }
  };
  /** Deliveries ready to go, per receiver; {@code turns} holds the receivers that have some, in their order. */
  private final Map<String, ArrayDeque<Delivery>> ready = new HashMap<>();
  private final ArrayDeque<String> turns = new ArrayDeque<>();
  private final Map<String, Integer> busy = new HashMap<>();
  private int pending;
  private long pendingBytes;
  private int inFlight;
  private long delivered;
  private long failed;
  private long dropped;
  private long attempts;
  private long lastDropWarning;
  private long lastFailureWarning;

  public WebhookSender(Vertx vertx, WebhookSettings settings, DeliveryOptions storeDelivery) {
    this.vertx = vertx;
    this.settings = settings;
    this.storeDelivery = storeDelivery;
    // The poster gives up at timeoutMs; the bus waits a little longer, so that its answer is the one we see.
    this.deliverDelivery = new DeliveryOptions().setSendTimeout(settings.timeoutMs() + 5_000);
  }

  /** Registers this node's {@link Bus#WEBHOOK_STATS} and {@link Bus#CRAWL_ENDED} consumers. */
  public Future<Void> start() {
    var bus = vertx.eventBus();
    return Future.all(
        // The first Mac.getInstance loads the JCA providers, which can take a noticeable while: on a worker, now.
        vertx.executeBlocking(() -> hmacSha256Hex("warm-up", "warm-up"), false),
        bus.<JsonObject>consumer(Bus.WEBHOOK_STATS, msg -> msg.reply(stats())).completion(),
        // The store waits for this answer, and sends the end to another crawl node if none comes.
        bus.<JsonObject>consumer(Bus.CRAWL_ENDED, msg -> {
          if (msg.body() != null) {
            changed(msg.body(), false);
          }
          msg.reply(new JsonObject());
        }).completion()).mapEmpty();
  }

  /**
   * A job changed state: it {@code started} (went from queued to running), or it ended, and its status says how:
   * {@code completed} and {@code cancelled} send the {@code completed} event, {@code failed} the {@code failed} one.
   */
  public void changed(JsonObject job, boolean started) {
    CrawlJob j = CrawlJob.from(job);
    String event = started ? "started" : switch (j.status()) {
      case CrawlJob.COMPLETED, CrawlJob.CANCELLED -> "completed";
      case CrawlJob.FAILED -> "failed";
      default -> null;
    };
    if (event != null) {
      // An event a job has once has an id made of the job and the event: should two nodes send it (the end of a
      // cancelled job, sent again to another node after the first froze, and woke), a receiver drops the second.
      emit(j.id(), event, job, UUID.nameUUIDFromBytes((j.id() + "/" + event + "/" + j.status())
          .getBytes(StandardCharsets.UTF_8)).toString());
    }
  }

  /**
   * A page of the job was stored: its record, without the body; and, made only for a Firecrawl-format webhook, the
   * page as Firecrawl's document with its content.
   */
  public void page(String jobId, JsonObject page, Supplier<JsonObject> document) {
    emit(jobId, "page", page, document, UUID.randomUUID().toString());
  }

  /**
   * A watched page changed: a {@code page.changed} event for the watch's webhook ({@code stored}: as the store keeps
   * it, secret included), with {@code "watchId"} where job events have {@code "jobId"}. Queued like every event.
   */
  public void watchEvent(String watchId, JsonObject stored, String event, JsonObject data, String id) {
    Hook hook = Hook.from(new JsonObject().put("kind", "watch").put("webhook", stored));
    if (hook == null || !hook.events().contains(event)) {
      return;
    }
    if (pending >= settings.maxQueued()) {
      drop(watchId, event);
      return;
    }
    String body = new JsonObject().put("id", id).put("event", event).put("watchId", watchId).put("kind", "watch")
        .put("occurredAt", Instant.now().toString()).put("data", data).encode();
    pending++;
    ready(new Delivery(id, watchId, event, hook, body));
  }

  private void emit(String jobId, String event, JsonObject data, String id) {
    emit(jobId, event, data, null, id);
  }

  private void emit(String jobId, String event, JsonObject data, Supplier<JsonObject> document, String id) {
    String at = Instant.now().toString();
    hook(jobId).onSuccess(hook -> {
      if (hook == null || !hook.events().contains(event)) {
        return;
      }
      if (pending >= settings.maxQueued()) {
        drop(jobId, event);
        return;
      }
      String body = hook.firecrawl() ? FirecrawlPayload.of(hook.kind(), event, jobId, id, data, document,
              hook.metadata())
          : new JsonObject().put("id", id).put("event", event).put("jobId", jobId).put("kind", hook.kind())
              .put("occurredAt", at).put("data", data).encode();
      Delivery delivery = new Delivery(id, jobId, event, hook, body);
      if (pendingBytes + delivery.weight > settings.maxQueuedBytes()) {
        drop(jobId, event);
        return;
      }
      pending++;
      pendingBytes += delivery.weight;
      ready(delivery);
    }).onFailure(err -> LOG.warn("the {} event of job {} is not sent: its webhook could not be read ({})", event, jobId,
        FailureReplies.status(err)));
  }

  private Future<Hook> hook(String jobId) {
    Future<Hook> hook = hooks.get(jobId);
    if (hook == null) {
      hook = MemberRouter.<JsonObject>request(vertx, Bus.JOBS_WEBHOOK, new JsonObject().put("id", jobId), storeDelivery)
          .map(msg -> Hook.from(msg.body()));
      hooks.put(jobId, hook);
      hook.onFailure(err -> hooks.remove(jobId));
    }
    return hook;
  }

  private void ready(Delivery d) {
    ArrayDeque<Delivery> queue = ready.computeIfAbsent(d.hook.target(), t -> new ArrayDeque<>());
    if (queue.isEmpty()) {
      turns.add(d.hook.target());
    }
    queue.add(d);
    drain();
  }

  /** Starts what the limits allow, one delivery per receiver per turn; a receiver at its own limit waits its next. */
  private void drain() {
    int skipped = 0;
    while (inFlight < settings.maxInFlight() && skipped < turns.size()) {
      String target = turns.poll();
      if (busy.getOrDefault(target, 0) >= settings.perTargetInFlight()) {
        turns.add(target);
        skipped++;
        continue;
      }
      skipped = 0;
      ArrayDeque<Delivery> queue = ready.get(target);
      Delivery d = queue.poll();
      if (queue.isEmpty()) {
        ready.remove(target);
      } else {
        turns.add(target);
      }
      attempt(d);
    }
  }

  private void attempt(Delivery d) {
    inFlight++;
    busy.merge(d.hook.target(), 1, Integer::sum);
    attempts++;
    d.attempts++;
    WebhookDelivery post = new WebhookDelivery(d.hook.url(), headers(d), d.body, settings.timeoutMs());
    MemberRouter.<JsonObject>request(vertx, Bus.WEBHOOK_DELIVER, post.toJson(), deliverDelivery).onComplete(ar -> {
      inFlight--;
      busy.computeIfPresent(d.hook.target(), (t, n) -> n == 1 ? null : n - 1);
      int status = ar.succeeded() ? ar.result().body().getInteger("status") : FailureReplies.status(ar.cause());
      if (ar.succeeded() && status >= 200 && status < 300) {
        delivered++;
        pending--;
        pendingBytes -= d.weight;
      } else if (status >= 500 && d.attempts < settings.maxAttempts()) {
        vertx.setTimer(backoff(d.attempts), t -> ready(d)); // stays pending: it counts against the bounds
      } else {
        failed++;
        pending--;
        pendingBytes -= d.weight;
        giveUp(d, ar.succeeded() ? "the receiver answered " + status : reason(ar.cause()));
      }
      drain();
    });
  }

  /**
   * The job's own headers, then ours. With a secret, {@code X-Fetchbus-Signature} is {@code sha256=} and the hex
   * HMAC-SHA256, keyed with the secret, of {@code <X-Fetchbus-Timestamp>.<body>} (the body's UTF-8 bytes): the
   * timestamp is signed too, so a receiver can refuse an old delivery replayed.
   */
  private static JsonObject headers(Delivery d) {
    JsonObject headers = new JsonObject();
    d.hook.headers().forEach(h -> {
      if (!h.getKey().toLowerCase(Locale.ROOT).startsWith("x-fetchbus-")) {
        headers.put(h.getKey(), h.getValue());
      }
    });
    String timestamp = Long.toString(Instant.now().getEpochSecond());
    headers.put(EVENT, d.event).put(DELIVERY, d.id).put(ATTEMPT, Integer.toString(d.attempts)).put(TIMESTAMP, timestamp);
    if (d.hook.secret() != null) {
      headers.put(SIGNATURE, "sha256=" + hmacSha256Hex(d.hook.secret(), timestamp + "." + d.body));
    }
    return headers;
  }

  /** HMAC-SHA256 of a small body: microseconds of work once the JCA is loaded (see start), fine on the event loop. */
  static String hmacSha256Hex(String secret, String message) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(message.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this JVM", e); // every JVM has it
    }
  }

  /** The wait after the {@code attemptsMade}-th failed delivery ({@link Backoff}). */
  private long backoff(int attemptsMade) {
    return Backoff.delayMs(attemptsMade - 1, settings.retryBaseMs(), settings.retryMaxMs());
  }

  /** The failure's kind (its slug), never its message: that may quote the webhook's URL. */
  private static String reason(Throwable err) {
    int status = FailureReplies.status(err);
    String message = err instanceof ReplyException re ? re.getMessage() : null;
    return Failure.of(status, message).slug + " (" + status + ")";
  }

  private void giveUp(Delivery d, String why) {
    long now = System.currentTimeMillis();
    if (now - lastFailureWarning >= WARN_EVERY_MS) {
      lastFailureWarning = now;
      LOG.warn("webhook {} event of job {} to {} not delivered after {} attempt(s): {} ({} undelivered on this node "
          + "so far; further ones within {} s are logged at debug)", d.event, d.jobId, d.hook.target(), d.attempts, why,
          failed, WARN_EVERY_MS / 1000);
    } else {
      LOG.debug("webhook {} event of job {} to {} not delivered after {} attempt(s): {}", d.event, d.jobId,
          d.hook.target(), d.attempts, why);
    }
  }

  private void drop(String jobId, String event) {
    dropped++;
    long now = System.currentTimeMillis();
    if (now - lastDropWarning >= WARN_EVERY_MS) {
      lastDropWarning = now;
      LOG.warn("webhook queue full ({} deliveries pending, {} bytes; webhooks.maxQueued, webhooks.maxQueuedBytes): the "
          + "{} event of job {} is dropped; {} dropped on this node so far", pending, pendingBytes, event, jobId, dropped);
    } else {
      LOG.debug("webhook queue full: the {} event of job {} is dropped", event, jobId);
    }
  }

  private JsonObject stats() {
    return new JsonObject().put("queued", pending - inFlight).put("inFlight", inFlight).put("delivered", delivered)
        .put("failed", failed).put("dropped", dropped).put("attempts", attempts);
  }
}
