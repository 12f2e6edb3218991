package io.fetchbus.fetch;

import io.fetchbus.bus.Failure;
import io.fetchbus.bus.WebUrl;
import io.fetchbus.ops.Meters;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.net.SocketAddress;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides whether a URL may be fetched at all, so that Fetchbus cannot be turned on the network it runs in
 * (SSRF). The host is resolved here, asynchronously, and refused if <em>any</em> of its addresses is refused;
 * the fetch then connects to the address that was checked, so a second DNS answer cannot swap it (rebinding).
 * The ports this node listens on are refused on its own addresses whatever the settings, so the service is never
 * turned on itself. A refusal says that a name's address is refused, never which address it is: the detail goes
 * into pages and job errors, and must not map the network the service runs in for whoever asked.
 */
final class DestinationGuard {
  private static final Logger LOG = LoggerFactory.getLogger(DestinationGuard.class);
  /** Host names made only of numbers, dots and hex: an IP address spelled some way a parser may accept. */
  private static final Pattern NUMERIC_HOST = Pattern.compile("(?i)^(0x[0-9a-f]*|[0-9]+)(\\.(0x[0-9a-f]*|[0-9]*))*$");
  private static final Pattern DOTTED_QUAD = Pattern.compile("^(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}$");

  private final Vertx vertx;
  private final AddressPolicy policy;
  private final Set<Integer> allowedPorts;
  private final Supplier<Set<Integer>> ownPorts;
  private final Set<InetAddress> ownAddresses;
  private final Meters meters;

  /**
   * @param allowedPorts ports that may be fetched; empty means all
   * @param ownPorts the ports this node listens on now (API, bridge, cluster, embedded PostgreSQL), never fetched
   *     on a loopback address or one of {@code ownAddresses}
   */
  DestinationGuard(Vertx vertx, AddressPolicy policy, Set<Integer> allowedPorts, Supplier<Set<Integer>> ownPorts,
                   Set<InetAddress> ownAddresses, Meters meters) {
    this.vertx = vertx;
    this.policy = policy;
    this.allowedPorts = allowedPorts;
    this.ownPorts = ownPorts;
    this.ownAddresses = ownAddresses;
    this.meters = meters;
  }

  /** The address to connect to for {@code url}, or a 403 that says why the destination is refused. */
  Future<SocketAddress> check(WebUrl url) {
    String host = url.uri().getHost();
    int port = url.port();
    if (!allowedPorts.isEmpty() && !allowedPorts.contains(port)) {
      return refuse(url, Meters.GUARD_PORT, "port " + port + " is not in fetch.guard.ports");
    }
    String literal = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    if (!literal.contains(":") && NUMERIC_HOST.matcher(literal).matches() && !DOTTED_QUAD.matcher(literal).matches()) {
      return refuse(url, Meters.GUARD_IP_SPELLING, "host " + host + " is an unusual spelling of an IP address");
    }
    return addresses(literal).transform(ar -> {
      if (ar.failed()) {
        return Future.failedFuture(ar.cause() instanceof UnknownHostException || hasCause(ar.cause(), UnknownHostException.class)
            ? Failure.DNS_FAILURE.exception("could not resolve host " + host)
            : Failure.DNS_FAILURE.exception("could not resolve host " + host + ": " + ar.cause().getMessage()));
      }
      List<InetAddress> all = ar.result();
      boolean named = isName(literal);
      Set<Integer> own = ownPorts.get();
      for (InetAddress address : all) {
        Optional<String> refusal = policy.refusal(address);
        if (refusal.isPresent()) {
          if (!named) {
            return refuse(url, Meters.GUARD_ADDRESS, refusal.get()); // the address is the caller's own input
          }
          LOG.debug("refused {}: {} resolves to {}", url, host, refusal.get());
          return refuse(url, Meters.GUARD_ADDRESS, host + " resolves to an address that is refused (fetch.guard)");
        }
        if (own.contains(port) && isLocal(address)) {
          return refuse(url, Meters.GUARD_SELF, host + ":" + port + " is a port of this service itself");
        }
      }
      return Future.succeededFuture(SocketAddress.inetSocketAddress(port, all.get(0).getHostAddress()));
    });
  }

  private boolean isLocal(InetAddress address) {
    return address.isLoopbackAddress() || address.isAnyLocalAddress() || ownAddresses.contains(address);
  }

  /** A host name, as opposed to an IP literal (which the URL itself shows). */
  private static boolean isName(String host) {
    return !host.contains(":") && !DOTTED_QUAD.matcher(host).matches();
  }

  /** Literal addresses are parsed (never looked up); names go through Vert.x's asynchronous resolver. */
  private Future<List<InetAddress>> addresses(String host) {
    if (host.contains(":") || DOTTED_QUAD.matcher(host).matches()) {
      try {
        return Future.succeededFuture(List.of(InetAddress.getByName(host)));
      } catch (UnknownHostException e) {
        return Future.failedFuture(e);
      }
    }
    Promise<List<InetSocketAddress>> promise = Promise.promise();
    // The resolver the HTTP client itself uses (hosts file, search domains, its cache), so the guard checks the
    // addresses a connection would go to; the public DnsClient asks a server directly and knows no hosts file.
    // VertxInternal: Vert.x 5 has no public accessor for that resolver.
    ((VertxInternal) vertx).nameResolver().resolveAll(host, promise::handle);
    return promise.future().map(list -> {
      List<InetAddress> out = new ArrayList<>(list.size());
      list.forEach(a -> out.add(a.getAddress()));
      return out;
    });
  }

  private <T> Future<T> refuse(WebUrl url, String reason, String why) {
    meters.guardDenied(reason);
    ReplyException e = Failure.DESTINATION_NOT_ALLOWED.exception("fetching " + url + " is not allowed: " + why);
    return Future.failedFuture(e);
  }

  private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return true;
      }
    }
    return false;
  }
}
