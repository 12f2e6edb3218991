package io.fetchbus.api.contract;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.pointer.JsonPointer;
import io.vertx.ext.web.RoutingContext;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.common.dsl.SchemaType;
import io.vertx.openapi.contract.Location;
import io.vertx.openapi.contract.MediaType;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Parameter;
import io.vertx.openapi.validation.SchemaValidationException;
import io.vertx.openapi.validation.ValidatorErrorType;
import io.vertx.openapi.validation.ValidatorException;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A request the contract refused, as its problem's status and detail. The detail names the parameter or field
 * first, the way the handlers do ({@code limit: must be between 1 and 500, got 0}, {@code webhook.events[0]: ...}),
 * and says what the schema asks, read from the schema itself: its bounds, its values, its known fields.
 */
public record Violations(JsonObject document) {
  /** Where {@link ContractRequests} leaves the operation a request is validated for. */
  static final String OPERATION = "fetchbus.operation";
  /** vertx-openapi names the parameter only in its message: "... query parameter limit is invalid ...". */
  private static final Pattern PARAMETER = Pattern.compile("(?:query|path|header|cookie) parameter ([^ ]+?)(?:\\.? |\\.?$)");
  /** Keywords that assert something of the instance itself (the others only apply subschemas). */
  private static final Set<String> ASSERTIONS = Set.of("type", "enum", "const", "required", "minimum", "maximum",
      "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "pattern", "format",
      "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties");
  private static final Pattern REQUIRED = Pattern.compile("required property \"(.*)\"");
  private static final Pattern NUMBER_FIRST = Pattern.compile("^(\\S+) is (?:less|greater) than");
  private static final Pattern ITEMS = Pattern.compile("\\(\\s*\\+?\\s*(\\d+)\\s*[<>]");

  public record Problem(int status, String detail) {}

  public Problem of(ValidatorException e, RoutingContext ctx) {
    Operation operation = ctx.get(OPERATION);
    Parameter parameter = operation == null ? null : parameter(operation, e.getMessage());
    if (parameter != null) {
      String name = parameter.getName();
      if (e.type() == ValidatorErrorType.MISSING_REQUIRED_PARAMETER) {
        return bad(name + ": is required");
      }
      JsonObject schema = json(parameter.getSchema());
      if (e instanceof SchemaValidationException sve && sve.getOutputUnit() != null) {
        return bad(describe(sve.getOutputUnit(), schema, name, raw(ctx, parameter)));
      }
      return bad(name + ": must be " + kind(schema)); // the value could not even be read as its type
    }
    if (e instanceof SchemaValidationException sve && sve.getOutputUnit() != null && operation != null) {
      MediaType json = operation.getRequestBody().getContent().get(ContractRequests.JSON);
      return bad(describe(sve.getOutputUnit(), json == null ? new JsonObject() : json(json.getSchema()), "body",
          body(ctx)));
    }
    return switch (e.type()) {
      case MISSING_REQUIRED_PARAMETER -> bad("body: a JSON object is required");
      case ILLEGAL_VALUE -> bad("body: is not valid JSON");
      case UNSUPPORTED_VALUE_FORMAT -> new Problem(415, "Content-Type: must be " + ContractRequests.JSON + ", got '"
          + shorten(ctx.request().getHeader("Content-Type")) + "'");
      default -> bad(e.getMessage());
    };
  }

  private static Problem bad(String detail) {
    return new Problem(400, detail);
  }

  /** The parameter the message names. */
  private static Parameter parameter(Operation operation, String message) {
    Matcher m = PARAMETER.matcher(message == null ? "" : message);
    if (!m.find()) {
      return null;
    }
    return operation.getParameters().stream().filter(p -> m.group(1).equals(p.getName())).findFirst().orElse(null);
  }

  /** The body as JSON (it was decoded once already, or the schema would not have been checked). */
  private static Object body(RoutingContext ctx) {
    try {
      return ctx.body().buffer() == null ? null : Json.decodeValue(ctx.body().buffer());
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** The parameter's value as the schema saw it: an array parameter's items split out. */
  private static Object raw(RoutingContext ctx, Parameter p) {
    if (p.getSchemaType() == SchemaType.ARRAY && p.getIn() == Location.QUERY) {
      List<String> values = ctx.queryParams().getAll(p.getName());
      return new JsonArray(p.isExplode() || values.isEmpty() ? values : List.of(values.get(0).split(",", -1)));
    }
    return switch (p.getIn()) {
      case QUERY -> ctx.queryParams().get(p.getName());
      case PATH -> ctx.pathParam(p.getName());
      case HEADER -> ctx.request().getHeader(p.getName());
      case COOKIE -> null;
    };
  }

  /**
   * The first error that says what is wrong with a value, rather than that a subschema failed. vertx-json-schema
   * also reports every property that failed its own schema as failing {@code additionalProperties}: that error
   * is only the answer when there is no other, i.e. for a field that is really unknown.
   */
  private String describe(OutputUnit result, JsonObject schema, String root, Object instance) {
    List<OutputUnit> errors = result.getErrors() == null ? List.of(result) : result.getErrors();
    OutputUnit leaf = errors.stream().filter(u -> ASSERTIONS.contains(keyword(u))).findFirst()
        .or(() -> errors.stream().filter(u -> keyword(u).equals("additionalProperties")).findFirst())
        .orElse(null);
    if (leaf == null) {
      return root + ": " + result.getError();
    }
    String pointer = pointer(leaf.getInstanceLocation());
    String keyword = keyword(leaf);
    JsonObject at = schemaAt(schema, leaf.getKeywordLocation());
    if (keyword.equals("required")) {
      Matcher m = REQUIRED.matcher(String.valueOf(leaf.getError()));
      String field = m.find() ? field(root, pointer + "/" + m.group(1)) : field(root, pointer);
      return field + ": is required";
    }
    String field = field(root, pointer);
    if (keyword.equals("additionalProperties")) {
      Set<String> known = new TreeSet<>(at.getJsonObject("properties", new JsonObject()).fieldNames());
      return field + ": is not a known field (known: " + String.join(", ", known) + ")";
    }
    Object value = valueAt(instance, pointer);
    return field + ": " + switch (keyword) {
      case "type" -> "must be " + kind(at);
      case "enum" -> "must be one of " + join(at.getJsonArray("enum")) + got(value);
      case "const" -> "must be " + at.getValue("const");
      case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum" -> range(at, leaf);
      case "minLength" -> Integer.valueOf(1).equals(at.getValue("minLength")) ? "must not be empty"
          : "must be at least " + at.getValue("minLength") + " characters long";
      case "maxLength" -> "is longer than " + at.getValue("maxLength") + " characters";
      case "pattern" -> "must match " + at.getString("pattern");
      case "format" -> "uuid".equals(at.getString("format")) ? "must be a UUID" : "must be a valid " + at.getString("format");
      case "minItems" -> Integer.valueOf(1).equals(at.getValue("minItems")) ? "must not be empty"
          : "must have at least " + at.getValue("minItems") + " items";
      case "maxItems" -> "at most " + at.getValue("maxItems") + " items" + count(leaf);
      case "maxProperties" -> "at most " + at.getValue("maxProperties") + " entries";
      case "minProperties" -> "must have at least " + at.getValue("minProperties") + " entries";
      case "uniqueItems" -> "must not repeat an item";
      case "multipleOf" -> "must be a multiple of " + at.getValue("multipleOf");
      default -> leaf.getError();
    };
  }

  /** The keyword an error is about: the last segment of its keyword location. */
  private static String keyword(OutputUnit u) {
    String location = u.getKeywordLocation() == null ? "" : u.getKeywordLocation();
    return location.substring(location.lastIndexOf('/') + 1);
  }

  /** What a schema's type asks for, with an integer's bounds, in the words the handlers use. */
  private static String kind(JsonObject schema) {
    Object type = schema.getValue("type");
    String t = type instanceof JsonArray a ? String.valueOf(a.getValue(0)) : String.valueOf(type);
    return switch (t) {
      case "integer" -> {
        Object min = schema.getValue("minimum");
        Object max = schema.getValue("maximum");
        if (min != null && max != null) {
          yield "a whole number between " + min + " and " + max;
        }
        if (max == null && min != null && ((Number) min).longValue() == 1) {
          yield "a positive whole number";
        }
        yield "a whole number" + (min != null ? " of at least " + min : max != null ? " of at most " + max : "");
      }
      case "number" -> "a number";
      case "string" -> "a string";
      case "boolean" -> "true or false";
      case "array" -> "an array";
      case "object" -> "a JSON object";
      default -> t;
    };
  }

  private static String range(JsonObject at, OutputUnit leaf) {
    Matcher m = NUMBER_FIRST.matcher(String.valueOf(leaf.getError()));
    String got = m.find() ? ", got " + m.group(1) : "";
    Object min = at.getValue("minimum");
    Object max = at.getValue("maximum");
    if (min != null && max != null) {
      return "must be between " + min + " and " + max + got;
    }
    if (min != null) {
      return (((Number) min).longValue() == 1 && "integer".equals(at.getValue("type"))
          ? "must be a positive whole number" : "must be at least " + min) + got;
    }
    return max != null ? "must be at most " + max + got : String.valueOf(leaf.getError());
  }

  private static String count(OutputUnit leaf) {
    Matcher m = ITEMS.matcher(String.valueOf(leaf.getError()));
    return m.find() ? ", got " + m.group(1) : "";
  }

  private static String got(Object value) {
    return value instanceof String || value instanceof Number || value instanceof Boolean
        ? "; got '" + shorten(String.valueOf(value)) + "'" : "";
  }

  private static String join(JsonArray values) {
    return values == null ? "" : String.join(", ", values.stream().map(String::valueOf).toList());
  }

  private static String shorten(String s) {
    return s == null ? "" : s.length() > 100 ? s.substring(0, 100) + "…" : s;
  }

  /** {@code #/webhook/events/0} -> {@code /webhook/events/0}. */
  private static String pointer(String instanceLocation) {
    String s = instanceLocation == null ? "" : instanceLocation;
    return s.startsWith("#") ? s.substring(1) : s;
  }

  /** A JSON pointer as the handlers name fields: {@code /webhook/events/0} -> {@code webhook.events[0]}. */
  static String field(String root, String pointer) {
    StringBuilder out = new StringBuilder();
    for (String segment : pointer.split("/")) {
      if (segment.isEmpty()) {
        continue;
      }
      String s = segment.replace("~1", "/").replace("~0", "~");
      if (s.matches("\\d+")) {
        out.append('[').append(s).append(']');
      } else {
        out.append(out.length() == 0 ? "" : ".").append(s);
      }
    }
    if (out.length() == 0) {
      return root;
    }
    // A parameter's own value is named by the parameter; a body's fields are named by themselves.
    return root.equals("body") ? (out.charAt(0) == '[' ? "body" + out : out.toString()) : root + (out.charAt(0) == '[' ? "" : ".") + out;
  }

  private static Object valueAt(Object instance, String pointer) {
    if (pointer.isEmpty()) {
      return instance;
    }
    try {
      return instance == null ? null : JsonPointer.from(pointer).queryJson(instance);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /**
   * The schema object holding the keyword at {@code keywordLocation} ({@code #/properties/webhook/$ref/properties/
   * events/items/enum}), following {@code $ref}s into this document.
   */
  private JsonObject schemaAt(JsonObject schema, String keywordLocation) {
    String[] segments = pointer(keywordLocation).split("/");
    Object node = schema;
    for (int i = 1; i < segments.length - 1; i++) { // the last segment is the keyword itself
      String s = segments[i].replace("~1", "/").replace("~0", "~");
      if (node instanceof JsonObject o) {
        if (s.equals("$ref")) {
          // The schemas vertx-openapi hands out have their references inlined; the locations still name them.
          node = o.getValue("$ref") instanceof String ref ? resolve(ref) : o;
        } else {
          node = o.getValue(s);
        }
      } else if (node instanceof JsonArray a && s.matches("\\d+") && Integer.parseInt(s) < a.size()) {
        node = a.getValue(Integer.parseInt(s));
      } else {
        return new JsonObject();
      }
    }
    return node instanceof JsonObject o ? o : new JsonObject();
  }

  /** A reference into this document: {@code #/components/...}, which vertx-openapi may have made absolute. */
  private Object resolve(String ref) {
    if (ref == null || ref.indexOf('#') < 0) {
      return null;
    }
    try {
      return JsonPointer.from(ref.substring(ref.indexOf('#') + 1)).queryJson(document);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** The schema's own object ({@link JsonSchema} shows its fields one by one). */
  private static JsonObject json(JsonSchema schema) {
    JsonObject out = new JsonObject();
    if (schema != null) {
      schema.fieldNames().forEach(name -> out.put(name, schema.get(name)));
    }
    return out;
  }
}
