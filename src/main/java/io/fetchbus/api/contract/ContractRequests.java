package io.fetchbus.api.contract;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.json.schema.common.dsl.SchemaType;
import io.vertx.openapi.contract.Location;
import io.vertx.openapi.contract.MediaType;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Parameter;
import io.vertx.openapi.contract.RequestBody;
import io.vertx.openapi.validation.RequestParameter;
import io.vertx.openapi.validation.impl.RequestValidatorImpl;
import io.vertx.openapi.validation.ValidatableRequest;
import io.vertx.openapi.validation.ValidatorException;
import java.math.BigInteger;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Validates a request against its operation of the contract, on the event loop, before the operation's handlers.
 *
 * <p>It replaces the router's own validation, which vertx-openapi 5.0 runs through an ordered
 * {@code executeBlocking}: every request of an event loop then waits in one queue for one worker thread, two thread
 * hops each (the cache-hit path ran at a tenth of a trivial route's rate). Checking a request that the body limit
 * bounds against our schemas (no pattern that can backtrack) is microseconds of CPU, the event loop's kind of work.
 * The synchronous checks it calls are public on the implementation class only (vertx-openapi 5.0.7, pinned by the BOM).
 *
 * <p>The validator is given the request as the handlers will read it. vertx-openapi's default extractor decodes
 * query values a second time (so {@code q=100%25} would fail and {@code C%2B%2B} would be validated as "C  ") and
 * reads header values as URL-encoded; here every value is the one {@code ctx.queryParams()}, {@code ctx.pathParam()}
 * and the headers give. The body is the one the BodyHandler read, and a body without a Content-Type is JSON.
 */
public final class ContractRequests implements Handler<RoutingContext> {
  static final String JSON = "application/json";
  /** Where the body, as the validator decoded it, waits for the handlers: decoding it again was a cost of its own. */
  public static final String DECODED_BODY = "fetchbus.decodedBody";
  /** Compiled once: {@code String.matches} compiles its pattern on every call, on every request. */
  private static final Pattern BARE_WORD = Pattern.compile("\\w+");
  private static final Pattern LEADING_ZEROS = Pattern.compile("-?\\d{2,}");

  // The impl class: validateParameter/validateBody (synchronous) are not on the public RequestValidator.
  private final RequestValidatorImpl validator;
  private final Operation operation;
  private final RequestBody requestBody;

  /** The operation's JSON media type, when a valid body of it can be proven so without vertx-openapi; else null. */
  private final MediaType quickJson;
  private final Predicate<Object> quickBody;

  public ContractRequests(RequestValidatorImpl validator, ValidatorCache contract, Operation operation) {
    this.validator = validator;
    this.operation = operation;
    this.requestBody = operation.getRequestBody() == null ? null : new MediaTypeChoice(operation.getRequestBody());
    MediaType json = requestBody == null || !operation.getParameters().isEmpty() ? null
        : requestBody.getContent().get(JSON);
    this.quickBody = json == null || json.getSchema() == null ? null : contract.quickCheck(json.getSchema());
    this.quickJson = quickBody == null ? null : json;
  }

  @Override
  public void handle(RoutingContext ctx) {
    JsonObject proven = provenBody(ctx);
    if (proven != null) {
      ctx.put(Violations.OPERATION, operation);
      ctx.put(DECODED_BODY, proven);
      ctx.next();
      return;
    }
    ValidatableRequest request = validatable(ctx, operation);
    try {
      for (Parameter param : operation.getParameters()) {
        validator.validateParameter(param, switch (param.getIn()) {
          case QUERY -> request.getQuery().get(param.getName());
          case PATH -> request.getPathParameters().get(param.getName());
          case HEADER -> request.getHeaders().get(param.getName());
          case COOKIE -> request.getCookies().get(param.getName());
        });
      }
      RequestParameter body = validator.validateBody(requestBody, request);
      if (body != null && body.get() instanceof JsonObject json) {
        ctx.put(DECODED_BODY, json);
      }
    } catch (ValidatorException e) {
      ctx.fail(new HttpException(400, e.getMessage(), e)); // as the router's own validation fails
      return;
    }
    ctx.next();
  }

  /**
   * The body of a request without parameters, decoded, when it is JSON that {@link QuickSchema} proves valid: what
   * vertx-openapi would answer for it (the same media type choice, the same decoding, the same schema), without its
   * analyser and its schema lookups (a twentieth of a cache hit's event-loop time). Null for anything else, which
   * vertx-openapi then decides and explains.
   */
  private JsonObject provenBody(RoutingContext ctx) {
    if (quickBody == null) {
      return null;
    }
    Buffer buffer = ctx.body().buffer();
    if (buffer == null || buffer.length() == 0) {
      return null;
    }
    if (requestBody.determineContentType(contentType(ctx)) != quickJson) {
      return null;
    }
    Object value;
    try {
      value = Json.decodeValue(buffer);
    } catch (DecodeException e) {
      return null;
    }
    return value instanceof JsonObject json && quickBody.test(json) ? json : null;
  }

  static ValidatableRequest validatable(RoutingContext ctx, Operation operation) {
    ctx.put(Violations.OPERATION, operation); // a refusal is explained from the operation's schemas
    Map<Location, Map<String, RequestParameter>> params = new EnumMap<>(Location.class);
    for (Location in : Location.values()) {
      params.put(in, new HashMap<>());
    }
    for (Parameter param : operation.getParameters()) {
      params.get(param.getIn()).put(param.getName(), value(param, raw(ctx, param)));
    }
    RequestParameter body = null;
    String contentType = null;
    if (operation.getRequestBody() != null) {
      Buffer buffer = ctx.body().buffer();
      body = () -> buffer == null ? Buffer.buffer() : buffer;
      contentType = contentType(ctx);
    }
    return new Request(params.get(Location.COOKIE), params.get(Location.HEADER), params.get(Location.PATH),
        params.get(Location.QUERY), body, contentType);
  }

  /** The request's media type as the validator compares it: JSON when not given, lower case (it is case-insensitive). */
  private static String contentType(RoutingContext ctx) {
    String given = ctx.request().getHeader("Content-Type");
    return given == null ? JSON : given.toLowerCase(Locale.ROOT);
  }

  private static List<String> raw(RoutingContext ctx, Parameter param) {
    return switch (param.getIn()) {
      case QUERY -> ctx.queryParams().getAll(param.getName());
      case PATH -> ctx.pathParam(param.getName()) == null ? List.of() : List.of(ctx.pathParam(param.getName()));
      case HEADER -> ctx.request().headers().getAll(param.getName());
      case COOKIE -> ctx.request().cookies(param.getName()).stream().map(c -> c.getValue()).toList();
    };
  }

  /**
   * The value in the form the validator's style transformers expect. They read a value that is not a bare word
   * as JSON, so a string is given JSON-encoded, which they decode back to exactly itself; a whole number with
   * leading zeros, which JSON does not allow, is given without them.
   */
  private static RequestParameter value(Parameter param, List<String> values) {
    if (values.isEmpty()) {
      return () -> null;
    }
    SchemaType type = param.getSchemaType();
    if (type == SchemaType.ARRAY && param.isExplode()) {
      String joined = values.stream().map(v -> param.getName() + "=" + v).collect(Collectors.joining("&"));
      return () -> joined;
    }
    String v = values.get(0);
    String given;
    if (type == SchemaType.STRING && !BARE_WORD.matcher(v).matches()) {
      given = Json.encode(v);
    } else if ((type == SchemaType.INTEGER || type == SchemaType.NUMBER) && LEADING_ZEROS.matcher(v).matches()) {
      given = new BigInteger(v).toString();
    } else {
      given = v;
    }
    return () -> given;
  }

  /** What the validator reads: each parameter by name, the body and its media type. */
  private record Request(Map<String, RequestParameter> getCookies, Map<String, RequestParameter> getHeaders,
                         Map<String, RequestParameter> getPathParameters, Map<String, RequestParameter> getQuery,
                         RequestParameter getBody, String getContentType) implements ValidatableRequest {
  }
}
