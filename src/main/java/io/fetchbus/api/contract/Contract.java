package io.fetchbus.api.contract;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import io.vertx.openapi.contract.MediaType;
import io.vertx.openapi.contract.OpenAPIContract;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The REST contract, {@code openapi.yaml} on the class path: its bytes as {@code GET /openapi.yaml} serves them,
 * and the {@link OpenAPIContract} the router is built and requests are validated from.
 */
public record Contract(Buffer document, JsonObject json, OpenAPIContract openapi) {
  public static final String RESOURCE = "openapi.yaml";
  /** The local map the loaded contract is shared through by the API's verticle instances. */
  private static final String SHARED = "fetchbus.api.contract";

  /**
   * The node's contract, loaded once and shared by the API's verticle instances (loading it is most of an instance's
   * start-up: four instances loading it at once on two cores took 1.7 s), completed on the caller's context.
   */
  public static Future<Contract> shared(Vertx vertx) {
    Loaded loaded = vertx.sharedData().<String, Loaded>getLocalMap(SHARED)
        .computeIfAbsent("contract", k -> new Loaded(load(vertx)));
    return Future.fromCompletionStage(loaded.contract().toCompletionStage(), vertx.getOrCreateContext());
  }

  /** The shared map's holder of the loading contract. */
  private record Loaded(Future<Contract> contract) implements Shareable {}

  /** Reads, parses and checks the document against the OpenAPI 3.1 schema, all off the event loop. */
  public static Future<Contract> load(Vertx vertx) {
    return vertx.fileSystem().readFile(RESOURCE).compose(bytes ->
        // Parsing YAML is CPU work (tens of milliseconds for this document, more while classes load): a worker's.
        vertx.executeBlocking(() -> parse(bytes))
            .compose(json -> OpenAPIContract.from(vertx, forValidation(json))
                .map(openapi -> new Contract(bytes, json, openapi))));
  }

  public static JsonObject parse(Buffer yaml) {
    Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml.toString(StandardCharsets.UTF_8));
    if (!(doc instanceof Map<?, ?> map)) {
      throw new IllegalStateException(RESOURCE + " is not a YAML mapping");
    }
    return (JsonObject) json(map);
  }

  /** YAML lets keys be numbers ({@code 200:}); JSON keys are strings. */
  private static Object json(Object yaml) {
    if (yaml instanceof Map<?, ?> map) {
      Map<String, Object> out = new LinkedHashMap<>();
      map.forEach((k, v) -> out.put(String.valueOf(k), json(v)));
      return new JsonObject(out);
    }
    if (yaml instanceof List<?> list) {
      return new JsonArray(list.stream().map(Contract::json).toList());
    }
    return yaml;
  }

  /**
   * The document as vertx-openapi 5.0 can take it. That version refuses a contract whose responses use a media
   * type it cannot validate ({@code application/problem+json}, {@code text/event-stream}, {@code application/yaml},
   * {@code *}{@code /*}), although the router never validates responses. Those response contents are left out of
   * the copy it is given; requests, the part it validates, are untouched, and the served document is the file.
   */
  static JsonObject forValidation(JsonObject doc) {
    JsonObject copy = doc.copy();
    copy.getJsonObject("paths", new JsonObject()).forEach(path -> {
      if (path.getValue() instanceof JsonObject operations) {
        operations.forEach(op -> {
          if (op.getValue() instanceof JsonObject operation) {
            stripResponses(operation.getJsonObject("responses"));
          }
        });
      }
    });
    stripResponses(copy.getJsonObject("components", new JsonObject()).getJsonObject("responses"));
    return copy;
  }

  private static void stripResponses(JsonObject responses) {
    if (responses == null) {
      return;
    }
    responses.forEach(response -> {
      if (response.getValue() instanceof JsonObject r && r.getValue("content") instanceof JsonObject content) {
        content.fieldNames().removeIf(type -> !MediaType.isMediaTypeSupported(type));
        if (content.isEmpty()) {
          r.remove("content");
        }
      }
    });
  }
}
