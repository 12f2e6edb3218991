package io.fetchbus.bridge;

import io.fetchbus.auth.FailedAuthThrottle;
import io.fetchbus.auth.Keys;
import io.fetchbus.bus.Bus;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Set;

/**
 * Decides every {@code send}, {@code publish}, {@code register} and {@code unregister} frame before the bridge acts
 * on it: its shape, its API key (when keys are configured), and its address against the allow-lists. A refused
 * frame gets an {@link #errFrame} that names what it answers (the {@code replyAddress} of a send, the address of
 * a register), with a failure code like every Fetchbus failure, and is dropped. Wrong keys count against the
 * client's address in the {@link FailedAuthThrottle} the REST API uses: past {@code auth.maxFailures}, every frame
 * of that address is refused with 429 until its window ends, its key not even looked at.
 *
 * <p>Changes made to the frame here are what the bridge forwards: the {@code authorization} header is always
 * removed (no consumer, log or other node sees a key), and a crawl submission carries the name of the key that
 * sent it, as over REST.
 */
final class FrameGuard {
  static final String AUTHORIZATION = "authorization";
  private static final int MAX_ADDRESS_CHARS = 256;
  /** The longest a client may ask the bus to wait for a reply ({@code headers.timeout}). */
  static final long MAX_TIMEOUT_MS = 600_000;
  /**
   * Reply addresses Vert.x generates: a client answering a message it received sends there, and the bridge lets
   * that through only for reply addresses it handed to this connection.
   */
  private static final String REPLY_PREFIX = "__vertx.reply.";
  /** The requests whose {@code keyName} the bridge sets from the connection's key (and removes without one). */
  private static final Set<String> KEYED = Set.of(Bus.CRAWL_SUBMIT, Bus.WATCHES_CREATE, Bus.WATCHES_GET,
      Bus.WATCHES_LIST, Bus.WATCHES_DELETE, Bus.WATCHES_CHANGES, Bus.WATCHES_RUN);

  private final Keys keys;
  private final FailedAuthThrottle throttle;
  private final AllowList inbound;
  private final AllowList outbound;

  FrameGuard(Keys keys, FailedAuthThrottle throttle, AllowList inbound, AllowList outbound) {
    this.keys = keys;
    this.throttle = throttle;
    this.inbound = inbound;
    this.outbound = outbound;
  }

  record Refusal(int code, String message) {}

  /**
   * Why a {@code send}, {@code publish}, {@code register} or {@code unregister} frame from {@code client} (its
   * {@link io.fetchbus.auth.ClientAddress}) is refused, or null.
   */
  Refusal check(String type, JsonObject frame, String client) {
    if (!(frame.getValue("address") instanceof String address) || address.isEmpty()
        || address.length() > MAX_ADDRESS_CHARS) {
      return new Refusal(400, "invalid-request: address must be a string of 1 to " + MAX_ADDRESS_CHARS + " characters");
    }
    Object rawHeaders = frame.getValue("headers");
    if (rawHeaders != null && !(rawHeaders instanceof JsonObject)) {
      return new Refusal(400, "invalid-request: headers must be a JSON object");
    }
    JsonObject headers = rawHeaders == null ? new JsonObject() : (JsonObject) rawHeaders;
    String authorization = takeAuthorization(headers);
    String bad = badHeader(headers);
    if (bad != null) {
      return new Refusal(400, "invalid-request: " + bad);
    }
    String keyName = null;
    if (!keys.isEmpty()) {
      long waitMs = throttle.blockedForMs(client);
      if (waitMs > 0) {
        return new Refusal(429, "too-many-auth-failures: " + throttle.maxFailures() + " wrong API keys came from this "
            + "address within " + throttle.windowSeconds() + " s (auth.maxFailures, auth.failureWindowSeconds); retry in "
            + (waitMs + 999) / 1000 + " s");
      }
      keyName = keys.match(authorization);
      if (keyName == null && authorization != null) {
        throttle.failed(client); // a frame without a key is not a guess
      }
      if (keyName == null) {
        return new Refusal(401, authorization == null
            ? "unauthorized: this bridge needs an API key: send headers {\"authorization\": \"Bearer <key>\"} with every frame"
            : "unauthorized: the API key is not valid");
      }
    }
    return switch (type) {
      case Frames.SEND -> checkSend(address, frame, keyName);
      case Frames.PUBLISH -> checkPublish(address, frame);
      default -> outbound.permits(address) ? null
          : new Refusal(403, "access_denied: " + address + " is not on bridge.outbound");
    };
  }

  private Refusal checkSend(String address, JsonObject frame, String keyName) {
    if (address.startsWith(REPLY_PREFIX)) {
      return null;
    }
    if (!inbound.permits(address)) {
      return new Refusal(403, "access_denied: " + address + " is not on bridge.inbound");
    }
    if (!(frame.getValue("body") instanceof JsonObject body)) {
      return new Refusal(400, "invalid-request: body must be a JSON object");
    }
    if (KEYED.contains(address)) {
      // Idempotency keys and watches are kept per key name: the name is the bridge's to say, as the API's is over
      // REST, so that a client can neither claim another key's name nor reach another key's watches.
      if (keyName == null) {
        body.remove("keyName");
      } else {
        body.put("keyName", keyName);
      }
    }
    return null;
  }

  private Refusal checkPublish(String address, JsonObject frame) {
    if (!inbound.permits(address)) {
      return new Refusal(403, "access_denied: " + address + " is not on bridge.inbound");
    }
    if (address.startsWith("fetchbus.")) {
      // A publish would reach every instance of the consumer at once, and nobody would get the answer.
      return new Refusal(403, "access_denied: " + address + " answers requests: send to it with a replyAddress");
    }
    if (!(frame.getValue("body") instanceof JsonObject)) {
      return new Refusal(400, "invalid-request: body must be a JSON object");
    }
    return null;
  }

  /** Removes the {@code authorization} header (in any case) and returns its value, if it was a string. */
  private static String takeAuthorization(JsonObject headers) {
    String value = null;
    for (String name : new ArrayList<>(headers.fieldNames())) {
      if (name.equalsIgnoreCase(AUTHORIZATION)) {
        Object v = headers.remove(name);
        value = v instanceof String s ? s : null;
      }
    }
    return value;
  }

  /**
   * What is wrong with the headers the bridge turns into delivery options and message headers, or null: string
   * values, except {@code timeout} (a whole number of milliseconds) and {@code localOnly} (a boolean);
   * {@code codecName} is refused, since every body is JSON.
   */
  private static String badHeader(JsonObject headers) {
    for (String name : headers.fieldNames()) {
      Object v = headers.getValue(name);
      switch (name) {
        case "timeout" -> {
          if (!(v instanceof Integer || v instanceof Long) || ((Number) v).longValue() < 1
              || ((Number) v).longValue() > MAX_TIMEOUT_MS) {
            return "headers.timeout must be a whole number of milliseconds from 1 to " + MAX_TIMEOUT_MS;
          }
        }
        case "localOnly" -> {
          if (!(v instanceof Boolean)) {
            return "headers.localOnly must be true or false";
          }
        }
        case "codecName" -> {
          return "headers.codecName is not accepted: bodies are JSON";
        }
        default -> {
          if (!(v instanceof String)) {
            return "headers." + name + " must be a string";
          }
        }
      }
    }
    return null;
  }

  /**
   * The bridge's own shape for a failed request ({@code type, address, sourceAddress, failureCode, failureType,
   * message}): {@code address} is what the refusal answers (a send's replyAddress, a register's address), absent
   * when nothing waits for it (a publish, a send without replyAddress).
   */
  static JsonObject errFrame(String type, JsonObject frame, Refusal refusal) {
    JsonObject err = new JsonObject().put("type", "err");
    Object address = frame.getValue("address") instanceof String s ? s : null;
    Object replyAddress = frame.getValue("replyAddress") instanceof String s ? s : null;
    if (type.equals(Frames.SEND) && replyAddress != null) {
      err.put("address", replyAddress);
    } else if ((type.equals(Frames.REGISTER) || type.equals(Frames.UNREGISTER)) && address != null) {
      err.put("address", address);
    }
    if (address != null) {
      err.put("sourceAddress", address);
    }
    return err.put("failureCode", refusal.code()).put("failureType", "RECIPIENT_FAILURE").put("message", refusal.message());
  }
}
