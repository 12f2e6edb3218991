package io.fetchbus.api.contract;

import io.vertx.core.json.JsonObject;
import io.vertx.openapi.contract.MediaType;
import io.vertx.openapi.contract.RequestBody;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An operation's request body whose media type is chosen once per {@code Content-Type} a client sends, not per
 * request: vertx-openapi 5.0 strips white space from the header with {@code String.replaceAll}, which compiles a
 * regular expression on every call (3% of a cache hit's event-loop time). The choice itself is vertx-openapi's.
 * Bounded: clients may send any header, so past {@link #MAX_REMEMBERED} distinct values the others are chosen anew
 * each time, as before.
 */
final class MediaTypeChoice implements RequestBody {
  static final int MAX_REMEMBERED = 32;
  private final RequestBody body;
  private final Map<String, Optional<MediaType>> chosen = new ConcurrentHashMap<>();

  MediaTypeChoice(RequestBody body) {
    this.body = body;
  }

  @Override
  public MediaType determineContentType(String contentType) {
    if (contentType == null) {
      return null;
    }
    Optional<MediaType> type = chosen.get(contentType);
    if (type == null) {
      type = Optional.ofNullable(body.determineContentType(contentType));
      if (chosen.size() < MAX_REMEMBERED) {
        chosen.putIfAbsent(contentType, type);
      }
    }
    return type.orElse(null);
  }

  @Override
  public boolean isRequired() {
    return body.isRequired();
  }

  @Override
  public Map<String, MediaType> getContent() {
    return body.getContent();
  }

  @Override
  public JsonObject getOpenAPIModel() {
    return body.getOpenAPIModel();
  }
}
