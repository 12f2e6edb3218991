package io.fetchbus.fetch;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An address block such as {@code 10.0.0.0/8} or {@code fc00::/7}. */
record Cidr(byte[] network, int prefix, String text) {

  static Cidr parse(String text) {
    int slash = text.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("not a CIDR block (address/prefix): " + text);
    }
    byte[] net;
    try {
      // Only literal addresses reach here (checked below), so this never consults DNS.
      String addr = text.substring(0, slash);
      if (!addr.matches("[0-9a-fA-F:.]+")) {
        throw new IllegalArgumentException("not an IP address: " + addr);
      }
      net = InetAddress.getByName(addr).getAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not a CIDR block: " + text, e);
    }
    int prefix = Integer.parseInt(text.substring(slash + 1));
    if (prefix < 0 || prefix > net.length * 8) {
      throw new IllegalArgumentException("prefix out of range in " + text);
    }
    return new Cidr(net, prefix, text);
  }

  boolean contains(byte[] address) {
    if (address.length != network.length) {
      return false;
    }
    int full = prefix / 8;
    for (int i = 0; i < full; i++) {
      if (address[i] != network[i]) {
        return false;
      }
    }
    int rest = prefix % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xFF << (8 - rest)) & 0xFF;
    return (address[full] & mask) == (network[full] & mask);
  }

  @Override
  public String toString() {
    return text;
  }
}
