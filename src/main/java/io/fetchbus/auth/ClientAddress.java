package io.fetchbus.auth;

import io.vertx.core.net.SocketAddress;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Who a client is for throttling: its TCP peer address (never a header it could forge). An IPv6 client counts as
 * its /64 network, because one host usually holds a whole /64 and could otherwise change address at every request.
 */
public final class ClientAddress {
  private ClientAddress() {}

  /** The key to count a client's requests under: an IPv4 address, an IPv6 /64 prefix, or "-" when there is none. */
  public static String of(SocketAddress peer) {
    InetAddress address = inet(peer);
    if (address == null) {
      return peer == null || peer.hostAddress() == null ? "-" : peer.hostAddress();
    }
    if (address instanceof Inet6Address v6 && !v6.isLoopbackAddress()) {
      byte[] b = v6.getAddress();
      return String.format("%02x%02x:%02x%02x:%02x%02x:%02x%02x::/64", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
    }
    return address.getHostAddress();
  }

  /** Whether the peer is on this machine's loopback network (127.0.0.0/8, ::1). */
  public static boolean isLoopback(SocketAddress peer) {
    if (peer != null && peer.isInetSocket() && isIpv4(peer.hostAddress())) {
      return peer.hostAddress().startsWith("127."); // asked of every request: no parse for the common case
    }
    InetAddress address = inet(peer);
    return address != null && address.isLoopbackAddress();
  }

  /** Whether {@code literal} is a dotted IPv4 address as the socket reports it (digits and dots only). */
  private static boolean isIpv4(String literal) {
    if (literal == null || literal.isEmpty()) {
      return false;
    }
    for (int i = 0; i < literal.length(); i++) {
      char c = literal.charAt(i);
      if (c != '.' && (c < '0' || c > '9')) {
        return false;
      }
    }
    return true;
  }

  /** The peer's address, parsed from its literal form (no DNS lookup), or null for a peer that has none. */
  private static InetAddress inet(SocketAddress peer) {
    if (peer == null || !peer.isInetSocket() || peer.hostAddress() == null || peer.hostAddress().isEmpty()) {
      return null;
    }
    String literal = peer.hostAddress();
    if (!isIpv4(literal) && literal.indexOf(':') < 0) {
      return null; // not a literal address: never resolve a name here
    }
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      return null;
    }
  }
}
