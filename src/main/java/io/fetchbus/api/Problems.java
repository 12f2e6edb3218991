package io.fetchbus.api;

import io.fetchbus.api.http.Admission;
import io.fetchbus.api.contract.Violations;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.FailureReplies;
import io.fetchbus.ops.SampledLog;
import io.fetchbus.serve.RecordedFailure;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.openapi.validation.ValidatorException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes every error as RFC 9457 {@code application/problem+json}: {@code type} ({@code /problems/<slug>}),
 * {@code title}, {@code status}, {@code detail}, and {@code instance} when a resource records the occurrence.
 * Handlers only call {@code ctx.fail}; this is the one place that turns failures into responses and logs them.
 */
final class Problems {
  static final String MEDIA_TYPE = "application/problem+json";
  private static final Logger LOG = LoggerFactory.getLogger(Problems.class);

  private final int maxRequestBytes;
  private final Violations violations;
  /** 502, 503, 504: the store, an upstream or the node out of breath; many at once when one is, so sampled. */
  private final SampledLog unavailable;

  Problems(int maxRequestBytes, Violations violations, SampledLog unavailable) {
    this.maxRequestBytes = maxRequestBytes;
    this.violations = violations;
    this.unavailable = unavailable;
  }

  /** The sampled log of 5xx answers other than 500, one for the API verticles of a Vert.x instance. */
  static SampledLog unavailableLog(Vertx vertx) {
    return vertx.sharedData().<String, SampledLog>getLocalMap("fetchbus.api").computeIfAbsent("problemLog",
        k -> new SampledLog(vertx, LOG, 60_000, 10, "5xx answers"));
  }

  void handle(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    String instance = null;
    if (failure instanceof RecordedFailure rf) {
      instance = "/v1/pages/" + rf.pageId();
      failure = rf.getCause();
    }
    int status;
    String detail;
    if (failure instanceof HttpException he && he.getCause() instanceof ValidatorException refused) {
      // The contract refused the request before its handler ran.
      Violations.Problem problem = violations.of(refused, ctx);
      status = problem.status();
      detail = problem.detail();
    } else {
      status = status(failure, ctx.statusCode());
      detail = detail(ctx, failure, status);
    }
    log(ctx, failure, status, detail);
    if (ctx.response().headWritten()) {
      ctx.response().reset();
      return;
    }
    Failure kind = Failure.of(status, detail);
    detail = Failure.detail(status, detail);
    JsonObject problem = new JsonObject()
        .put("type", "/problems/" + slug(kind, status))
        .put("title", kind.code == status ? kind.title : io.netty.handler.codec.http.HttpResponseStatus.valueOf(status).reasonPhrase())
        .put("status", status)
        .put("detail", detail);
    if (instance != null) {
      problem.put("instance", instance);
    }
    if ((status == 503 || status == 429) && !ctx.response().headers().contains("Retry-After")) {
      ctx.response().putHeader("Retry-After", "5"); // unless the refusal knows better when to come back
    }
    ctx.response().setStatusCode(status).putHeader("Content-Type", MEDIA_TYPE).end(problem.encode());
  }

  private void log(RoutingContext ctx, Throwable failure, int status, String detail) {
    if (Boolean.TRUE.equals(ctx.get(Admission.REFUSED))) {
      return; // Admission logs its refusals, sampled
    }
    if (status == 500) {
      LOG.error("{} {} failed", ctx.request().method(), ctx.request().path(), failure);
    } else if (status > 500) {
      unavailable.warn("{} {} -> {}: {}", ctx.request().method(), ctx.request().path(), status, detail);
    } else {
      LOG.debug("{} {} -> {}: {}", ctx.request().method(), ctx.request().path(), status, detail);
    }
  }

  private static int status(Throwable t, int ctxStatus) {
    if (t instanceof ReplyException) {
      return FailureReplies.status(t);
    }
    if (t instanceof HttpException he) {
      return he.getStatusCode();
    }
    return ctxStatus > 0 ? ctxStatus : 500;
  }

  private String detail(RoutingContext ctx, Throwable t, int status) {
    if (t instanceof ReplyException re) {
      return switch (re.failureType()) {
        case RECIPIENT_FAILURE -> re.getMessage();
        case TIMEOUT -> "an internal request timed out: " + re.getMessage();
        case NO_HANDLERS -> "a part of the service is not running (" + re.getMessage() + "); retry later";
        default -> "internal error";
      };
    }
    if (t instanceof HttpException he && he.getPayload() != null) {
      return he.getPayload();
    }
    return switch (status) {
      case 404 -> "no resource at " + ctx.request().path();
      case 405 -> ctx.request().method() + " is not allowed on " + ctx.request().path();
      case 413 -> "the request body is larger than " + maxRequestBytes + " bytes (http.maxRequestBytes)";
      case 400 -> "the request is malformed";
      case 503 -> "the request took too long to complete; retry later";
      case 429 -> "too many requests; retry later";
      default -> "internal error";
    };
  }

  private static String slug(Failure kind, int status) {
    return kind.code == status ? kind.slug : String.valueOf(status);
  }
}
