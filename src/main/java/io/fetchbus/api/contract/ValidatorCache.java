package io.fetchbus.api.contract;

import io.vertx.core.file.FileSystem;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.Draft;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.JsonSchemaOptions;
import io.vertx.json.schema.OutputFormat;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.SchemaException;
import io.vertx.json.schema.SchemaRepository;
import io.vertx.json.schema.Validator;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.OpenAPIVersion;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Path;
import io.vertx.openapi.contract.SecurityRequirement;
import io.vertx.openapi.contract.SecurityScheme;
import io.vertx.openapi.contract.Server;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The contract as the request validator sees it, except that each schema's validator is built once. vertx-openapi
 * 5.0 asks the schema repository for a new validator on every request, and building one copies the repository's map
 * of every schema it holds (the OpenAPI meta-schemas included): that copy was the largest cost of validating a
 * {@code POST /v1/fetch}. A validator only reads its schema, so one per schema serves every request.
 *
 * <p>And a request is first checked by a pass/fail validator ({@link OutputFormat#Flag}), which stops at the first
 * error and builds no error report; only a request that fails is validated again for the report that explains the
 * refusal. Building the report for every valid request was about a tenth of a cache hit's CPU.
 *
 * <p>In front of both, {@link QuickSchema}: the schema compiled to a check that can only prove a request valid, so
 * that the usual valid request never reaches vertx-json-schema's interpreter (a fifth of a cache hit's CPU).
 *
 * <p>One instance per verticle instance: its map is used from that verticle's event loop only.
 */
public final class ValidatorCache implements OpenAPIContract {
  private final OpenAPIContract contract;
  private final SchemaRepository repository;

  public ValidatorCache(OpenAPIContract contract) {
    this.contract = contract;
    this.repository = new Repository(contract.getSchemaRepository(),
        contract.getVersion() == OpenAPIVersion.V3_0 ? Draft.DRAFT4 : Draft.DRAFT202012);
  }

  @Override
  public SchemaRepository getSchemaRepository() {
    return repository;
  }

  @Override
  public Operation operation(String operationId) {
    return contract.operation(operationId);
  }

  @Override
  public List<Operation> operations() {
    return contract.operations();
  }

  @Override
  public List<Path> getPaths() {
    return contract.getPaths();
  }

  @Override
  public JsonObject getRawContract() {
    return contract.getRawContract();
  }

  @Override
  public OpenAPIVersion getVersion() {
    return contract.getVersion();
  }

  @Override
  public List<Server> getServers() {
    return contract.getServers();
  }

  @Override
  public Path findPath(String urlPath) {
    return contract.findPath(urlPath);
  }

  @Override
  public Operation findOperation(String urlPath, HttpMethod method) {
    return contract.findOperation(urlPath, method);
  }

  @Override
  public List<SecurityRequirement> getSecurityRequirements() {
    return contract.getSecurityRequirements();
  }

  @Override
  public SecurityScheme securityScheme(String name) {
    return contract.securityScheme(name);
  }

  /** The quick proof that a value is valid against {@code schema}, or null when {@link QuickSchema} has none. */
  Predicate<Object> quickCheck(JsonSchema schema) {
    return ((PassFailFirst) repository.validator(schema)).quick();
  }

  /**
   * The quick proof of validity when it has one; else the pass/fail answer when it is valid; else the detailed
   * one, with the errors that explain it.
   */
  private record PassFailFirst(Predicate<Object> quick, Validator passFail, Validator detailed) implements Validator {
    @Override
    public OutputUnit validate(Object instance) throws SchemaException {
      if (quick != null && quick.test(instance)) {
        return new OutputUnit(true);
      }
      OutputUnit quick = passFail.validate(instance);
      return Boolean.TRUE.equals(quick.getValid()) ? quick : detailed.validate(instance);
    }
  }

  /** The contract's repository, with the validator of each schema object kept (by identity: schemas never change). */
  private static final class Repository implements SchemaRepository {
    private final SchemaRepository repository;
    private final JsonSchemaOptions passFail;
    private final Map<JsonSchema, Validator> validators = new IdentityHashMap<>();

    Repository(SchemaRepository repository, Draft draft) {
      this.repository = repository;
      this.passFail = new JsonSchemaOptions().setDraft(draft).setOutputFormat(OutputFormat.Flag);
    }

    @Override
    public Validator validator(JsonSchema schema) {
      return validators.computeIfAbsent(schema, s -> new PassFailFirst(QuickSchema.compile(resolved(s)),
          repository.validator(s, passFail, false), repository.validator(s)));
    }

    /** The schema with its references inlined, for {@link QuickSchema}; null when it cannot be (a cycle). */
    private Object resolved(JsonSchema schema) {
      JsonObject json = new JsonObject();
      schema.fieldNames().forEach(name -> json.put(name, schema.get(name)));
      try {
        return repository.resolve(json);
      } catch (RuntimeException unresolvable) {
        return null;
      }
    }

    @Override
    public SchemaRepository dereference(JsonSchema schema) throws SchemaException {
      return repository.dereference(schema);
    }

    @Override
    public SchemaRepository dereference(String uri, JsonSchema schema) throws SchemaException {
      return repository.dereference(uri, schema);
    }

    @Override
    public SchemaRepository preloadMetaSchema(FileSystem fs) {
      return repository.preloadMetaSchema(fs);
    }

    @Override
    public SchemaRepository preloadMetaSchema(FileSystem fs, Draft draft) {
      return repository.preloadMetaSchema(fs, draft);
    }

    @Override
    public Validator validator(String ref) {
      return repository.validator(ref);
    }

    @Override
    public Validator validator(String ref, JsonSchemaOptions options) {
      return repository.validator(ref, options);
    }

    @Override
    public Validator validator(JsonSchema schema, JsonSchemaOptions options, boolean dereference) {
      return repository.validator(schema, options, dereference);
    }

    @Override
    public JsonObject resolve(JsonObject schema) {
      return repository.resolve(schema);
    }

    @Override
    public JsonSchema find(String pointer) {
      return repository.find(pointer);
    }
  }
}
