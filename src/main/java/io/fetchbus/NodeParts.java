package io.fetchbus;

import io.fetchbus.api.ApiVerticle;
import io.fetchbus.config.Settings;
import io.fetchbus.ops.FreePort;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The verticles a node deployed, in the order it deployed them, and their undeployment in the reverse order, each
 * after the one before has stopped, with what stopping it involves in the log.
 */
final class NodeParts {
  /** The node's start-up and shutdown log as one story, under one logger name. */
  private static final Logger LOG = LoggerFactory.getLogger(MainVerticle.class);

  /** A deployment, what it is, and what stopping it involves (for the log). */
  private record Deployed(String id, String what, String stopping) {}

  private final Vertx vertx;
  private final List<Deployed> deployed = new ArrayList<>();

  NodeParts(Vertx vertx) {
    this.vertx = vertx;
  }

  /**
   * The API's instances share one port, and so spread its connections over the event loops. With
   * {@code http.port: 0} Vert.x would give each instance a random port of its own, and every client would reach the
   * one announced, on one event loop; so a free port is chosen first ({@link FreePort}) and every
   * instance is given it. Another process could take that port in between: then the deployment is tried again.
   */
  Future<String> deployApi(JsonObject cfg, int attempts) {
    int instances = perEventLoop(cfg, "http");
    String stopping = "no new connections; requests in progress finish";
    if (Settings.number(cfg, "http", "port").intValue() != 0 || instances == 1) {
      return deploy(ApiVerticle.class.getName(), cfg, instances, false, "the API", stopping);
    }
    return FreePort.on(vertx, Settings.string(cfg, "http", "host")).compose(port -> {
      JsonObject shared = cfg.copy();
      shared.getJsonObject("http").put("port", port);
      return deploy(ApiVerticle.class.getName(), shared, instances, false, "the API", stopping);
    }).recover(err -> attempts > 1 ? deployApi(cfg, attempts - 1) : Future.failedFuture(err));
  }

  Future<String> deploy(String verticle, JsonObject cfg, int instances, boolean worker, String what,
                        String stopping) {
    DeploymentOptions options = new DeploymentOptions().setConfig(cfg).setInstances(instances);
    if (worker) {
      // A pool of its own, as many threads as instances: an instance's messages run one at a time anyway, and on the
      // shared pool of 20 they hopped among 20 threads, so that what each thread keeps warm (the search analysis's
      // memory of lexemes) was mostly cold. Vert.x still lets an instance's next message take any free thread of
      // the pool, but there are only as many as instances. One such part per node: a pool's name keeps its size.
      options.setThreadingModel(ThreadingModel.WORKER).setWorkerPoolName("fetchbus-" + what.replace(' ', '-'))
          .setWorkerPoolSize(instances);
    }
    return vertx.deployVerticle(verticle, options)
        .onSuccess(id -> {
          deployed.add(new Deployed(id, what, stopping));
          LOG.debug("deployed {} x{}", verticle, instances);
        });
  }

  /** Undeploys every part, the last deployed first; a part that fails to stop is logged, and the next one stops. */
  Future<Void> stopInReverse() {
    Future<Void> chain = Future.succeededFuture();
    for (int i = deployed.size() - 1; i >= 0; i--) {
      Deployed part = deployed.get(i);
      chain = chain.compose(v -> {
        LOG.info("stopping {}{}", part.what(), part.stopping().isEmpty() ? "" : ": " + part.stopping());
        return vertx.undeploy(part.id())
            .onSuccess(x -> LOG.info("stopped {}", part.what()))
            .recover(err -> {
              LOG.warn("stopping {} failed; going on with the shutdown", part.what(), err);
              return Future.succeededFuture();
            });
      });
    }
    return chain.onComplete(v -> deployed.clear());
  }

  /** {@code instances: 0} means one per event-loop thread, the Vert.x way to use every core without locks. */
  int perEventLoop(JsonObject cfg, String part) {
    int n = instances(cfg, part);
    return n > 0 ? n : eventLoops();
  }

  /** The event-loop threads of this Vert.x instance: {@code vertx.eventLoops} ({@link EventLoops}). */
  int eventLoops() {
    int n = 0;
    for (var loop : ((VertxInternal) vertx).nettyEventLoopGroup()) {
      n++;
    }
    return Math.max(1, n);
  }

  static int perCore(JsonObject cfg, String part) {
    int n = instances(cfg, part);
    return n > 0 ? n : Runtime.getRuntime().availableProcessors();
  }

  static int instances(JsonObject cfg, String part) {
    return Settings.number(cfg, part, "instances").intValue();
  }
}
