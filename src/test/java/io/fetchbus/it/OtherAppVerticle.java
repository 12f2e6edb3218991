package io.fetchbus.it;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.FetchResult;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import java.io.Serializable;

/**
 * A verticle of another application, the way docs/event-bus.md shows it: compiled against the fat jar, started by the
 * plain Vert.x launcher in a JVM of its own with {@code -cluster} and the cluster's Hazelcast configuration:
 * <pre>
 * java -cp target/fetchbus.jar:target/test-classes -Dvertx.hazelcast.config=conf/cluster.xml \
 *   io.vertx.launcher.application.VertxApplication io.fetchbus.it.OtherAppVerticle -cluster -conf '{"url": "..."}'
 * </pre>
 * It fetches {@code url} over {@code fetchbus.fetch} on whichever Fetchbus node the bus picks, then sends a
 * Java-serialized object to the same address, which the cluster must refuse; it prints both outcomes and exits
 * with 0 if they are what they should be.
 */
public final class OtherAppVerticle extends VerticleBase {
  /** What Fetchbus must never decode. */
  public record Gadget(String command) implements Serializable {}

  @Override
  public Future<?> start() {
    String url = config().getString("url");
    EventBus bus = vertx.eventBus();
    // This application allows itself to send Java-serialized objects; the Fetchbus nodes do not accept them.
    bus.serializableChecker(className -> className.equals(Gadget.class.getName()));
    fetch(bus, url, 20)
        .map(m -> FetchResult.from(m.body()))
        .compose(result -> {
          System.out.println("OTHER-APP fetched " + result.url() + " status=" + result.status() + " bytes=" + result.bytes());
          return bus.request(Bus.FETCH, new Gadget("rm -rf /"), new DeliveryOptions().setSendTimeout(10_000))
              .transform(ar -> {
                if (ar.failed() && ar.cause() instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
                  System.out.println("OTHER-APP serialized body refused with " + re.failureCode());
                  return Future.succeededFuture(result.status() == 200 && re.failureCode() == 400);
                }
                System.out.println("OTHER-APP serialized body NOT refused: " + (ar.failed() ? ar.cause() : ar.result().body()));
                return Future.succeededFuture(false);
              });
        })
        .onComplete(ar -> {
          if (ar.failed()) {
            System.out.println("OTHER-APP failed: " + ar.cause());
          }
          int code = ar.succeeded() && ar.result() ? 0 : 1;
          vertx.close().onComplete(v -> new Thread(() -> System.exit(code)).start());
        });
    return Future.succeededFuture();
  }

  /** The cluster's subscriptions may reach a member that has just joined a moment later: no handler is retried. */
  private Future<Message<JsonObject>> fetch(EventBus bus, String url, int attempts) {
    return bus.<JsonObject>request(Bus.FETCH, new JsonObject().put("url", url), new DeliveryOptions().setSendTimeout(20_000))
        .recover(err -> err instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS && attempts > 1
            ? vertx.timer(250).compose(t -> fetch(bus, url, attempts - 1))
            : Future.failedFuture(err));
  }
}
