package io.fetchbus.webhook;

import io.fetchbus.bus.WebhookDelivery;
import io.fetchbus.config.Settings;
import io.vertx.core.json.JsonObject;

/**
 * The {@code webhooks} part of the config: how often and how patiently a delivery is tried, and how much
 * delivery work one node holds at most. Read without defaults: the configuration holds the jar's ({@link Settings}).
 */
public record WebhookSettings(int maxAttempts, long retryBaseMs, long retryMaxMs, long timeoutMs, int maxQueued,
                       int maxInFlight, int perTargetInFlight, long maxQueuedBytes) {
  /** The promise: a delivery is tried at most five times. */
  static final int MAX_ATTEMPTS = 5;

  public static WebhookSettings from(JsonObject config) {
    WebhookSettings s = new WebhookSettings(integer(config, "maxAttempts"), whole(config, "retryBaseMs"),
        whole(config, "retryMaxMs"), whole(config, "timeoutMs"), integer(config, "maxQueued"),
        integer(config, "maxInFlight"), integer(config, "perTargetInFlight"), whole(config, "maxQueuedBytes"));
    if (s.maxAttempts < 1 || s.maxAttempts > MAX_ATTEMPTS) {
      throw new IllegalArgumentException("webhooks.maxAttempts must be between 1 and " + MAX_ATTEMPTS);
    }
    if (s.retryBaseMs <= 0 || s.retryMaxMs < s.retryBaseMs) {
      throw new IllegalArgumentException("webhooks.retryBaseMs must be positive and webhooks.retryMaxMs at least as long");
    }
    if (s.timeoutMs <= 0 || s.timeoutMs > WebhookDelivery.MAX_TIMEOUT_MS) {
      throw new IllegalArgumentException("webhooks.timeoutMs must be between 1 and " + WebhookDelivery.MAX_TIMEOUT_MS);
    }
    if (s.maxQueued <= 0 || s.maxInFlight <= 0 || s.perTargetInFlight <= 0) {
      throw new IllegalArgumentException("webhooks.maxQueued, maxInFlight and perTargetInFlight must be positive");
    }
    if (s.maxQueuedBytes < WebhookDelivery.MAX_BODY_CHARS) {
      throw new IllegalArgumentException("webhooks.maxQueuedBytes must be at least " + WebhookDelivery.MAX_BODY_CHARS
          + ", the largest delivery");
    }
    return s;
  }

  private static int integer(JsonObject config, String name) {
    return Settings.number(config, "webhooks", name).intValue();
  }

  private static long whole(JsonObject config, String name) {
    return Settings.number(config, "webhooks", name).longValue();
  }
}
