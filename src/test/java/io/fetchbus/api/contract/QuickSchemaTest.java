package io.fetchbus.api.contract;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.Draft;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.JsonSchemaOptions;
import io.vertx.json.schema.OutputFormat;
import io.vertx.json.schema.SchemaRepository;
import io.vertx.json.schema.Validator;
import io.vertx.openapi.contract.MediaType;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Parameter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@link QuickSchema} against vertx-json-schema, on every request schema of the contract: what the quick check
 * proves valid, vertx-json-schema finds valid, over thousands of values made from each schema (near its bounds, with
 * unknown fields, wrong types, nulls); and it proves the usual valid requests valid, so the hot routes use it.
 */
class QuickSchemaTest {
  private static Vertx vertx;
  private static SchemaRepository repository;
  /** Each request schema of the contract (bodies and parameters) by where it is, with its quick check. */
  private static final Map<String, JsonSchema> SCHEMAS = new LinkedHashMap<>();
  private static final Map<String, Predicate<Object>> QUICK = new LinkedHashMap<>();

  @BeforeAll
  static void load() throws Exception {
    vertx = Vertx.vertx();
    OpenAPIContract contract = Contract.load(vertx).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).openapi();
    repository = contract.getSchemaRepository();
    for (Operation op : contract.operations()) {
      for (Parameter p : op.getParameters()) {
        SCHEMAS.put(op.getOperationId() + " " + p.getIn() + " " + p.getName(), p.getSchema());
      }
      if (op.getRequestBody() != null) {
        for (Map.Entry<String, MediaType> media : op.getRequestBody().getContent().entrySet()) {
          SCHEMAS.put(op.getOperationId() + " body " + media.getKey(), media.getValue().getSchema());
        }
      }
    }
    SCHEMAS.forEach((where, schema) -> {
      JsonObject json = new JsonObject();
      schema.fieldNames().forEach(name -> json.put(name, schema.get(name)));
      QUICK.put(where, QuickSchema.compile(repository.resolve(json)));
    });
  }

  @AfterAll
  static void close() {
    vertx.close();
  }

  @Test
  @DisplayName("the requests of the hot routes compile to a quick check")
  void hotRoutesCompile() {
    assertThat(QUICK.get("fetch body application/json")).isNotNull();
    assertThat(QUICK.get("getPage path id")).isNotNull();
    Predicate<Object> fetch = QUICK.get("fetch body application/json");
    assertThat(fetch.test(new JsonObject().put("url", "http://example.com/a"))).isTrue();
    assertThat(fetch.test(new JsonObject().put("url", "http://example.com/a").put("maxAgeSeconds", 3600)
        .put("formats", new JsonArray().add("text").add("links")))).isTrue();
    assertThat(fetch.test(new JsonObject().put("url", "http://example.com/a").put("surprise", 1))).isFalse();
    assertThat(fetch.test(new JsonObject().put("maxAgeSeconds", 1))).isFalse();
    assertThat(fetch.test(new JsonObject().put("url", "http://example.com/a").put("formats", new JsonArray().add("pdf")))).isFalse();
  }

  @Test
  @DisplayName("whatever the quick check proves valid, vertx-json-schema finds valid: every schema, 3,000 values each")
  void neverValidWhereVertxSaysInvalid() {
    JsonSchemaOptions flag = new JsonSchemaOptions().setDraft(Draft.DRAFT202012).setOutputFormat(OutputFormat.Flag);
    Random random = new Random(20261206);
    int proven = 0;
    int compiled = 0;
    for (Map.Entry<String, JsonSchema> e : SCHEMAS.entrySet()) {
      Predicate<Object> quick = QUICK.get(e.getKey());
      if (quick == null) {
        continue;
      }
      compiled++;
      Validator vertxValidator = repository.validator(e.getValue(), flag, false);
      JsonObject json = new JsonObject();
      e.getValue().fieldNames().forEach(name -> json.put(name, e.getValue().get(name)));
      Object resolved = repository.resolve(json);
      int valid = 0;
      for (int i = 0; i < 3_000; i++) {
        Object value = new Values(random).of(resolved, 0);
        boolean vertxSays = Boolean.TRUE.equals(vertxValidator.validate(value).getValid());
        if (quick.test(value)) {
          proven++;
          assertThat(vertxSays).as("%s: quick check proved %s valid", e.getKey(), value).isTrue();
        }
        valid += vertxSays ? 1 : 0;
      }
      assertThat(valid).as("%s: values made from the schema that are valid", e.getKey()).isPositive();
    }
    assertThat(compiled).isGreaterThan(SCHEMAS.size() / 2);
    assertThat(proven).isGreaterThan(1_000);
  }

  /** Values made from a schema: mostly of its shape, near its bounds, sometimes anything at all. */
  private record Values(Random random) {
    Object of(Object schema, int depth) {
      if (!(schema instanceof JsonObject s) || random.nextInt(8) == 0 || depth > 4) {
        return any(depth);
      }
      if (s.getValue("enum") instanceof JsonArray values && !values.isEmpty()) {
        return random.nextInt(6) == 0 ? any(depth) : values.getValue(random.nextInt(values.size()));
      }
      Object type = s.getValue("type");
      String t = type instanceof JsonArray a ? a.getString(random.nextInt(a.size())) : (String) type;
      if (t == null) {
        t = s.containsKey("properties") ? "object" : s.containsKey("items") ? "array" : "string";
      }
      return switch (t) {
        case "object" -> object(s, depth);
        case "array" -> {
          JsonArray out = new JsonArray();
          int n = near(s.getInteger("minItems"), s.getInteger("maxItems"), 4);
          for (int i = 0; i < Math.max(0, n); i++) {
            out.add(of(s.getValue("items"), depth + 1));
          }
          if (random.nextInt(4) == 0 && !out.isEmpty()) {
            out.add(out.getValue(0));  // a duplicate
          }
          yield out;
        }
        case "string" -> "x".repeat(Math.max(0, near(s.getInteger("minLength"), s.getInteger("maxLength"), 12)))
            + (random.nextBoolean() ? "\uD83D\uDE00" : "");
        case "integer" -> random.nextInt(10) == 0 ? (Object) 2.0 : (Object) (long) near(number(s, "minimum"), number(s, "maximum"), 100);
        case "number" -> random.nextBoolean() ? near(number(s, "minimum"), number(s, "maximum"), 100) + 0.5
            : (Object) near(number(s, "minimum"), number(s, "maximum"), 100);
        case "boolean" -> random.nextBoolean();
        default -> null;
      };
    }

    private JsonObject object(JsonObject s, int depth) {
      JsonObject out = new JsonObject();
      JsonObject props = s.getJsonObject("properties", new JsonObject());
      List<String> required = s.getJsonArray("required", new JsonArray()).stream().map(String::valueOf).toList();
      for (String name : props.fieldNames()) {
        if ((required.contains(name) && random.nextInt(10) > 0) || random.nextInt(3) == 0) {
          out.put(name, of(props.getValue(name), depth + 1));
        }
      }
      if (random.nextInt(5) == 0) {
        out.put("unknown" + random.nextInt(3), any(depth + 1));
      }
      return out;
    }

    private Integer number(JsonObject s, String key) {
      return s.getValue(key) instanceof Number n && Math.abs(n.doubleValue()) < 1e9 ? n.intValue() : null;
    }

    /** A size or number at a bound, one past it, or between. */
    private int near(Integer min, Integer max, int typical) {
      int lo = min == null ? 0 : min;
      int hi = max == null ? lo + typical : max;
      return switch (random.nextInt(6)) {
        case 0 -> lo - 1;
        case 1 -> lo;
        case 2 -> hi;
        case 3 -> hi + 1;
        default -> lo + random.nextInt(Math.max(1, Math.min(hi - lo, 1000) + 1));
      };
    }

    private Object any(int depth) {
      return switch (random.nextInt(depth > 2 ? 6 : 8)) {
        case 0 -> null;
        case 1 -> random.nextBoolean();
        case 2 -> random.nextInt(2000) - 1000;
        case 3 -> random.nextDouble() * 100;
        case 4 -> "s" + random.nextInt(100);
        case 5 -> "";
        case 6 -> new JsonArray().add(any(depth + 1)).add(any(depth + 1));
        default -> new JsonObject().put("k" + random.nextInt(3), any(depth + 1));
      };
    }
  }
}
