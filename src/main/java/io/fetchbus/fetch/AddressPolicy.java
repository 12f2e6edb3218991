package io.fetchbus.fetch;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;

/**
 * Which resolved addresses a fetch may connect to. By default only public unicast addresses: every special
 * block of the IANA registries is refused, and IPv6 forms that embed an IPv4 address are judged by that
 * address. Explicit CIDR blocks, because {@code InetAddress.isSiteLocalAddress()} and friends miss several.
 */
final class AddressPolicy {
  /** Blocks that are never a public web server. Each entry says why, for the 403 detail. */
  static final List<Cidr> SPECIAL = List.of(
      // IPv4
      Cidr.parse("0.0.0.0/8"), Cidr.parse("10.0.0.0/8"), Cidr.parse("100.64.0.0/10"), Cidr.parse("127.0.0.0/8"),
      Cidr.parse("169.254.0.0/16"), Cidr.parse("172.16.0.0/12"), Cidr.parse("192.0.0.0/24"),
      Cidr.parse("192.0.2.0/24"), Cidr.parse("192.88.99.0/24"), Cidr.parse("192.168.0.0/16"),
      Cidr.parse("198.18.0.0/15"), Cidr.parse("198.51.100.0/24"), Cidr.parse("203.0.113.0/24"),
      Cidr.parse("224.0.0.0/4"), Cidr.parse("240.0.0.0/4"),
      // IPv6 (the embedding forms ::/96, ::ffff:0:0/96, 64:ff9b::/96, 2002::/16, 2001::/32 are handled below)
      Cidr.parse("::/128"), Cidr.parse("::1/128"), Cidr.parse("64:ff9b:1::/48"), Cidr.parse("100::/64"),
      Cidr.parse("2001:2::/48"), Cidr.parse("2001:10::/28"), Cidr.parse("2001:20::/28"), Cidr.parse("2001:db8::/32"),
      Cidr.parse("3fff::/20"), Cidr.parse("5f00::/16"), Cidr.parse("fc00::/7"), Cidr.parse("fe80::/10"),
      Cidr.parse("fec0::/10"), Cidr.parse("ff00::/8"));

  private static final Cidr V4_COMPATIBLE = Cidr.parse("::/96");
  private static final Cidr NAT64 = Cidr.parse("64:ff9b::/96");
  /** IPv4-translated addresses (SIIT, RFC 6052 / RFC 7915). */
  private static final Cidr TRANSLATED = Cidr.parse("::ffff:0:0:0/96");
  private static final Cidr SIX_TO_FOUR = Cidr.parse("2002::/16");
  private static final Cidr TEREDO = Cidr.parse("2001::/32");

  private final boolean allowPrivate;
  private final List<Cidr> allow;
  private final List<Cidr> deny;

  /**
   * @param allowPrivate allow every special block (an intranet crawler, the tests)
   * @param allow blocks allowed even though special (e.g. one intranet subnet)
   * @param deny blocks refused even though public (always wins)
   */
  AddressPolicy(boolean allowPrivate, List<Cidr> allow, List<Cidr> deny) {
    this.allowPrivate = allowPrivate;
    this.allow = allow;
    this.deny = deny;
  }

  /** Why {@code address} is refused, or empty when a fetch may connect to it. */
  Optional<String> refusal(InetAddress address) {
    byte[] bytes = address.getAddress();
    for (Cidr c : deny) {
      if (c.contains(bytes)) {
        return Optional.of(address.getHostAddress() + " is in the denied block " + c + " (fetch.guard.deny)");
      }
    }
    for (Cidr c : allow) {
      if (c.contains(bytes)) {
        return Optional.empty();
      }
    }
    if (allowPrivate) {
      return Optional.empty();
    }
    Optional<InetAddress> embedded = embeddedIpv4(address);
    if (embedded.isPresent()) {
      return refusal(embedded.get()).map(why -> address.getHostAddress() + " embeds " + why);
    }
    for (Cidr c : SPECIAL) {
      if (c.contains(bytes)) {
        return Optional.of(address.getHostAddress() + " is not a public address (" + c + ")");
      }
    }
    return Optional.empty();
  }

  /** The IPv4 address inside an IPv4-compatible, NAT64, 6to4 or Teredo IPv6 address. */
  static Optional<InetAddress> embeddedIpv4(InetAddress address) {
    if (!(address instanceof Inet6Address)) {
      return Optional.empty();
    }
    byte[] b = address.getAddress();
    byte[] v4 = null;
    if (NAT64.contains(b) || TRANSLATED.contains(b) || (V4_COMPATIBLE.contains(b) && !isZeroOrOne(b))) {
      v4 = new byte[] {b[12], b[13], b[14], b[15]};
    } else if (SIX_TO_FOUR.contains(b)) {
      v4 = new byte[] {b[2], b[3], b[4], b[5]};
    } else if (TEREDO.contains(b)) {
      // RFC 4380: the client's IPv4 address is stored inverted in the last 32 bits.
      v4 = new byte[] {(byte) ~b[12], (byte) ~b[13], (byte) ~b[14], (byte) ~b[15]};
    }
    if (v4 == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(InetAddress.getByAddress(v4));
    } catch (UnknownHostException e) {
      throw new IllegalStateException("four bytes are always an IPv4 address", e);
    }
  }

  /** {@code ::} and {@code ::1} are in ::/96 but are their own special cases. */
  private static boolean isZeroOrOne(byte[] b) {
    for (int i = 0; i < 15; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return b[15] == 0 || b[15] == 1;
  }
}
