package io.fetchbus.api.contract;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A compiled check that proves a value valid against a schema written in the small part of JSON Schema the contract
 * uses for requests (types, properties, required, additionalProperties, items, sizes, bounds, string enums). It
 * never proves an invalid value valid, and may fail to prove a valid one (an integer written {@code 1.0}, an enum of
 * numbers): whatever it cannot prove goes to vertx-json-schema, which decides and explains. vertx-json-schema
 * interprets the schema map on every request; for a cache hit that was a fifth of the event loop's work.
 * <p>
 * {@link #compile} refuses (returns {@code null}) a schema holding any keyword outside that part, so a contract
 * change that uses more of JSON Schema is checked by vertx-json-schema alone rather than half-checked here.
 */
final class QuickSchema {
  /** Keywords that only describe; they never decide validity. */
  private static final Set<String> ANNOTATIONS = Set.of("description", "title", "default", "examples", "example",
      "deprecated", "$comment", "$schema", "$id", "__absolute_uri__", "__absolute_ref__");

  private QuickSchema() {}

  /** A check that is true only for values valid against {@code schema} (resolved: no $ref); null if unsupported. */
  static Predicate<Object> compile(Object schema) {
    if (schema instanceof Boolean b) {
      return b ? v -> true : v -> false;
    }
    if (!(schema instanceof JsonObject s)) {
      return null;
    }
    List<Predicate<Object>> checks = new ArrayList<>();
    for (String key : s.fieldNames()) {
      if (ANNOTATIONS.contains(key)) {
        continue;
      }
      Predicate<Object> check = keyword(key, s.getValue(key), s);
      if (check == null) {
        return null;
      }
      checks.add(check);
    }
    Predicate<Object>[] all = checks.toArray(Predicate[]::new);
    return v -> {
      for (Predicate<Object> check : all) {
        if (!check.test(v)) {
          return false;
        }
      }
      return true;
    };
  }

  private static Predicate<Object> keyword(String key, Object arg, JsonObject schema) {
    return switch (key) {
      case "type" -> type(arg);
      case "properties" -> properties(arg);
      case "additionalProperties" -> additional(arg, schema.getValue("properties"));
      case "required" -> required(arg);
      case "items" -> items(arg);
      case "minItems" -> whole(arg) == null ? null : arrays(a -> a.size() >= whole(arg));
      case "maxItems" -> whole(arg) == null ? null : arrays(a -> a.size() <= whole(arg));
      case "uniqueItems" -> Boolean.TRUE.equals(arg) ? arrays(QuickSchema::distinctStrings)
          : Boolean.FALSE.equals(arg) ? v -> true : null;
      case "minLength" -> whole(arg) == null ? null : strings(s -> s.codePointCount(0, s.length()) >= whole(arg));
      case "maxLength" -> whole(arg) == null ? null : strings(s -> s.codePointCount(0, s.length()) <= whole(arg));
      case "minimum" -> bound(arg, c -> c >= 0);
      case "maximum" -> bound(arg, c -> c <= 0);
      case "exclusiveMinimum" -> bound(arg, c -> c > 0);
      case "exclusiveMaximum" -> bound(arg, c -> c < 0);
      case "enum" -> stringEnum(arg);
      default -> null;
    };
  }

  private static Predicate<Object> type(Object arg) {
    List<Object> names = arg instanceof JsonArray a ? a.getList() : List.of(arg);
    List<Predicate<Object>> any = new ArrayList<>();
    for (Object name : names) {
      Predicate<Object> is = switch (String.valueOf(name)) {
        case "object" -> v -> v instanceof JsonObject;
        case "array" -> v -> v instanceof JsonArray;
        case "string" -> v -> v instanceof String;
        case "boolean" -> v -> v instanceof Boolean;
        case "null" -> v -> v == null;
        case "integer" -> QuickSchema::isInteger;
        case "number" -> v -> isInteger(v) || v instanceof Double || v instanceof Float || v instanceof BigDecimal;
        default -> null;
      };
      if (is == null) {
        return null;
      }
      any.add(is);
    }
    return v -> any.stream().anyMatch(is -> is.test(v));
  }

  private static boolean isInteger(Object v) {
    return v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte || v instanceof BigInteger;
  }

  private static Predicate<Object> properties(Object arg) {
    if (!(arg instanceof JsonObject props)) {
      return null;
    }
    Map<String, Predicate<Object>> checks = new HashMap<>();
    for (String name : props.fieldNames()) {
      Predicate<Object> check = compile(props.getValue(name));
      if (check == null) {
        return null;
      }
      checks.put(name, check);
    }
    return objects(o -> {
      for (Map.Entry<String, Predicate<Object>> e : checks.entrySet()) {
        if (o.containsKey(e.getKey()) && !e.getValue().test(o.getValue(e.getKey()))) {
          return false;
        }
      }
      return true;
    });
  }

  private static Predicate<Object> additional(Object arg, Object properties) {
    Set<String> known = properties instanceof JsonObject props ? props.fieldNames() : Set.of();
    Predicate<Object> check = compile(arg);
    if (check == null) {
      return null;
    }
    return objects(o -> {
      for (String name : o.fieldNames()) {
        if (!known.contains(name) && !check.test(o.getValue(name))) {
          return false;
        }
      }
      return true;
    });
  }

  private static Predicate<Object> required(Object arg) {
    if (!(arg instanceof JsonArray names) || !names.stream().allMatch(String.class::isInstance)) {
      return null;
    }
    List<String> list = names.stream().map(String.class::cast).toList();
    return objects(o -> list.stream().allMatch(o::containsKey));
  }

  private static Predicate<Object> items(Object arg) {
    Predicate<Object> check = arg instanceof JsonArray ? null : compile(arg);  // an array of schemas is draft 4's tuple
    if (check == null) {
      return null;
    }
    return arrays(a -> {
      for (int i = 0; i < a.size(); i++) {
        if (!check.test(a.getValue(i))) {
          return false;
        }
      }
      return true;
    });
  }

  private static boolean distinctStrings(JsonArray a) {
    Set<Object> seen = new HashSet<>();
    for (int i = 0; i < a.size(); i++) {
      if (!(a.getValue(i) instanceof String s) || !seen.add(s)) {
        return false;
      }
    }
    return true;
  }

  private static Predicate<Object> stringEnum(Object arg) {
    if (!(arg instanceof JsonArray values) || !values.stream().allMatch(String.class::isInstance)) {
      return null;
    }
    Set<Object> allowed = Set.copyOf(values.getList());
    return v -> v instanceof String && allowed.contains(v);
  }

  /** A bound on numbers: {@code holds} gets the comparison of the value with the bound. */
  private static Predicate<Object> bound(Object arg, java.util.function.IntPredicate holds) {
    BigDecimal limit = decimal(arg);
    if (limit == null) {
      return null;
    }
    return v -> {
      if (!(v instanceof Number)) {
        return true;  // bounds apply to numbers only
      }
      BigDecimal value = decimal(v);
      return value != null && holds.test(value.compareTo(limit));
    };
  }

  private static BigDecimal decimal(Object n) {
    if (isInteger(n)) {
      return new BigDecimal(n.toString());
    }
    if (n instanceof Double d && Double.isFinite(d)) {
      return BigDecimal.valueOf(d);
    }
    return n instanceof BigDecimal b ? b : null;
  }

  private static Integer whole(Object arg) {
    return arg instanceof Integer i && i >= 0 ? i : null;
  }

  // A keyword for objects (arrays) holds for values of other types; a bare Map (List) is not proven either way.
  private static Predicate<Object> objects(Predicate<JsonObject> check) {
    return v -> v instanceof JsonObject o ? check.test(o) : !(v instanceof Map);
  }

  private static Predicate<Object> arrays(Predicate<JsonArray> check) {
    return v -> v instanceof JsonArray a ? check.test(a) : !(v instanceof List);
  }

  private static Predicate<Object> strings(Predicate<String> check) {
    return v -> !(v instanceof String s) || check.test(s);
  }
}
