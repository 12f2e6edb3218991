package io.fetchbus.api;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.openapi.router.RequestExtractor;
import io.vertx.json.schema.common.dsl.SchemaType;
import io.vertx.openapi.contract.Location;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Parameter;
import io.vertx.openapi.validation.RequestParameter;
import io.vertx.openapi.validation.ValidatableRequest;
import java.math.BigInteger;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Hands a request to vertx-openapi's validator as the handlers will read it. The default extractor decodes query
 * values a second time (so {@code q=100%25} would fail and {@code C%2B%2B} would be validated as "C  ") and reads
 * header values as URL-encoded; here every value is the one {@code ctx.queryParams()}, {@code ctx.pathParam()} and
 * the headers give. The body is the one the BodyHandler read, and a body without a Content-Type is JSON.
 */
final class ContractRequests implements RequestExtractor {
  static final String JSON = "application/json";

  @Override
  public Future<ValidatableRequest> extractValidatableRequest(RoutingContext ctx, Operation operation) {
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
      contentType = ctx.request().getHeader("Content-Type");
      // Media types are case-insensitive; the validator compares them as written.
      contentType = contentType == null ? JSON : contentType.toLowerCase(Locale.ROOT);
    }
    return Future.succeededFuture(new Request(params.get(Location.COOKIE), params.get(Location.HEADER),
        params.get(Location.PATH), params.get(Location.QUERY), body, contentType));
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
    if (type == SchemaType.STRING && !v.matches("\\w+")) {
      given = Json.encode(v);
    } else if ((type == SchemaType.INTEGER || type == SchemaType.NUMBER) && v.matches("-?\\d{2,}")) {
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
