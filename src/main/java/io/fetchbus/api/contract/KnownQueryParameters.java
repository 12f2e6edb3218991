package io.fetchbus.api.contract;

import io.fetchbus.bus.Failure;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import io.vertx.openapi.contract.Location;
import io.vertx.openapi.contract.Operation;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The rule of unknown body fields, for the query string of a {@code /v1} operation: a parameter the contract does
 * not define is a 400 that names it, since a misspelt {@code limt=5} silently ignored answers something else.
 */
public final class KnownQueryParameters implements Handler<RoutingContext> {
  private final Set<String> known;
  private final String explained;

  private KnownQueryParameters(Set<String> known) {
    this.known = known;
    this.explained = known.isEmpty() ? "this operation takes none" : "known: " + String.join(", ", known);
  }

  public static KnownQueryParameters of(Operation op) {
    return new KnownQueryParameters(op.getParameters().stream().filter(p -> p.getIn() == Location.QUERY)
        .map(p -> p.getName()).collect(Collectors.toCollection(TreeSet::new)));
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (ctx.request().query() != null) {
      for (String name : ctx.queryParams().names()) {
        if (!known.contains(name)) {
          ctx.fail(Failure.INVALID.exception(name + ": is not a known parameter (" + explained + ")"));
          return;
        }
      }
    }
    ctx.next();
  }
}
