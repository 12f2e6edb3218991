package io.fetchbus.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.net.SocketAddress;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Who a client is for the limits: its peer address, an IPv6 client as its /64, loopback exempt. */
class ClientAddressTest {
  private static SocketAddress peer(String host) {
    return SocketAddress.inetSocketAddress(40_000, host);
  }

  @Test
  @DisplayName("loopback is 127.0.0.0/8 and ::1 (also written IPv4-mapped), nothing else")
  void loopback() {
    assertThat(ClientAddress.isLoopback(peer("127.0.0.1"))).isTrue();
    assertThat(ClientAddress.isLoopback(peer("127.254.3.9"))).isTrue();
    assertThat(ClientAddress.isLoopback(peer("::1"))).isTrue();
    assertThat(ClientAddress.isLoopback(peer("0:0:0:0:0:0:0:1"))).isTrue();
    assertThat(ClientAddress.isLoopback(peer("::ffff:127.0.0.1"))).isTrue();
    assertThat(ClientAddress.isLoopback(peer("10.0.0.1"))).isFalse();
    assertThat(ClientAddress.isLoopback(peer("128.0.0.1"))).isFalse();
    assertThat(ClientAddress.isLoopback(peer("2001:db8::1"))).isFalse();
    assertThat(ClientAddress.isLoopback(peer("localhost"))).as("a name is never resolved").isFalse();
    assertThat(ClientAddress.isLoopback(SocketAddress.domainSocketAddress("/tmp/x.sock"))).isFalse();
    assertThat(ClientAddress.isLoopback(null)).isFalse();
  }

  @Test
  @DisplayName("a client is counted as its IPv4 address or its IPv6 /64")
  void key() {
    assertThat(ClientAddress.of(peer("192.0.2.7"))).isEqualTo("192.0.2.7");
    assertThat(ClientAddress.of(peer("2001:db8:1:2:3:4:5:6"))).isEqualTo("2001:0db8:0001:0002::/64");
    assertThat(ClientAddress.of(peer("2001:db8:1:2:ffff::9"))).isEqualTo(ClientAddress.of(peer("2001:db8:1:2::1")));
    assertThat(ClientAddress.of(null)).isEqualTo("-");
  }
}
