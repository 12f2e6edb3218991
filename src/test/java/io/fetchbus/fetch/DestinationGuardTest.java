package io.fetchbus.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Failure;
import io.fetchbus.bus.WebUrl;
import io.fetchbus.ops.Meters;
import io.fetchbus.support.TestDns;
import io.fetchbus.support.TestVertx;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.dns.AddressResolverOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.net.SocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The destination guard with its default configuration, in the style of smokescreen's TestClassifyAddr: each
 * row is a URL and the verdict. Names resolve through a hosts file given to the Vert.x resolver, so nothing
 * leaves the machine and nothing is connected to: the guard only decides.
 */
class DestinationGuardTest {
  private static final String HOSTS = """
      127.0.0.1 internal.test
      169.254.169.254 metadata.test
      93.184.216.34 public.test
      10.1.2.3 intranet.test
      """;
  private static Vertx dnsVertx;
  private static Vertx vertx;

  /** A name with one public and one private address, served by a real (local) DNS server: a hosts file lists one. */
  @BeforeAll
  static void start() {
    dnsVertx = Vertx.vertx();
    TestDns dns = TestDns.start(dnsVertx, Map.of("mixed.test", List.of("93.184.216.34", "10.0.0.1"))).await();
    vertx = TestVertx.create(new VertxOptions().setAddressResolverOptions(new AddressResolverOptions()
        .setHostsValue(Buffer.buffer(HOSTS)).addServer("127.0.0.1:" + dns.port()).setQueryTimeout(2000).setMaxQueries(2)));
  }

  @AfterAll
  static void stop() {
    vertx.close().await();
    dnsVertx.close().await();
  }

  static Stream<Arguments> defaultVerdicts() {
    return Stream.of(
        // IPv4 special blocks
        Arguments.of("http://127.0.0.1/", false), Arguments.of("http://127.1.2.3:8080/", false),
        Arguments.of("http://10.0.0.1/", false), Arguments.of("http://10.255.255.255/", false),
        Arguments.of("http://172.16.0.1/", false), Arguments.of("http://172.31.255.255/", false),
        Arguments.of("http://192.168.1.1/", false), Arguments.of("http://169.254.169.254/latest/meta-data/", false),
        Arguments.of("http://100.64.0.1/", false), Arguments.of("http://100.127.255.254/", false),
        Arguments.of("http://0.0.0.0/", false), Arguments.of("http://0.1.2.3/", false),
        Arguments.of("http://224.0.0.1/", false), Arguments.of("http://239.255.255.250/", false),
        Arguments.of("http://255.255.255.255/", false), Arguments.of("http://240.0.0.1/", false),
        Arguments.of("http://192.0.2.10/", false), Arguments.of("http://198.51.100.7/", false),
        Arguments.of("http://203.0.113.9/", false), Arguments.of("http://198.18.0.1/", false),
        Arguments.of("http://192.0.0.8/", false), Arguments.of("http://192.88.99.1/", false),
        // IPv6 special blocks
        Arguments.of("http://[::1]/", false), Arguments.of("http://[::]/", false),
        Arguments.of("http://[fc00::1]/", false), Arguments.of("http://[fd12:3456::1]/", false),
        Arguments.of("http://[fe80::1]/", false), Arguments.of("http://[ff02::1]/", false),
        Arguments.of("http://[2001:db8::1]/", false), Arguments.of("http://[100::1]/", false),
        Arguments.of("http://[fec0::1]/", false),
        // IPv6 forms that embed a denied IPv4 address
        Arguments.of("http://[::ffff:127.0.0.1]/", false), Arguments.of("http://[::ffff:10.0.0.1]/", false),
        Arguments.of("http://[::ffff:169.254.169.254]/", false), Arguments.of("http://[::127.0.0.1]/", false),
        Arguments.of("http://[64:ff9b::7f00:1]/", false), Arguments.of("http://[64:ff9b::a9fe:a9fe]/", false),
        Arguments.of("http://[2002:7f00:1::]/", false), Arguments.of("http://[2002:c0a8:101::1]/", false),
        Arguments.of("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", false), Arguments.of("http://[::ffff:0:7f00:1]/", false),
        // odd spellings of IPv4 addresses
        Arguments.of("http://2130706433/", false), Arguments.of("http://0x7f.1/", false),
        Arguments.of("http://0177.0.0.1/", false), Arguments.of("http://017700000001/", false),
        Arguments.of("http://127.1/", false), Arguments.of("http://0x7f000001/", false),
        Arguments.of("http://127.0.0.01/", false), Arguments.of("http://8.8.8.8.8/", false),
        // names that resolve to denied addresses (any one denied address is enough)
        Arguments.of("http://internal.test/", false), Arguments.of("http://metadata.test/", false),
        Arguments.of("http://mixed.test/", false), Arguments.of("http://INTERNAL.test:8080/x", false),
        // public destinations
        Arguments.of("http://93.184.216.34/", true), Arguments.of("https://8.8.8.8:8443/", true),
        Arguments.of("http://public.test/", true), Arguments.of("http://[2606:4700:4700::1111]/", true),
        Arguments.of("http://[::ffff:8.8.8.8]/", true), Arguments.of("http://[64:ff9b::808:808]/", true),
        Arguments.of("http://[2002:808:808::1]/", true), Arguments.of("http://172.32.0.1/", true),
        Arguments.of("http://100.128.0.1/", true), Arguments.of("http://11.0.0.1/", true),
        Arguments.of("http://192.169.0.1/", true), Arguments.of("http://[2001:0:4136:e378:8000:63bf:f7f7:f7f7]/", true));
  }

  @ParameterizedTest(name = "{0} allowed={1}")
  @MethodSource("defaultVerdicts")
  @DisplayName("with the default configuration only public unicast destinations are allowed")
  void defaultPolicy(String url, boolean allowed) {
    assertVerdict(guard(new AddressPolicy(false, List.of(), List.of()), Set.of()), url, allowed);
  }

  @Test
  @DisplayName("allow and deny lists, allowPrivateNetworks and the port list change the verdicts")
  void configuredPolicy() {
    DestinationGuard intranet = guard(new AddressPolicy(false, List.of(Cidr.parse("10.1.0.0/16")),
        List.of(Cidr.parse("93.184.216.0/24"))), Set.of());
    assertVerdict(intranet, "http://intranet.test/", true);
    assertVerdict(intranet, "http://10.2.0.1/", false);
    assertVerdict(intranet, "http://public.test/", false);
    DestinationGuard open = guard(new AddressPolicy(true, List.of(), List.of(Cidr.parse("169.254.0.0/16"))), Set.of());
    assertVerdict(open, "http://internal.test/", true);
    assertVerdict(open, "http://metadata.test/", false);
    DestinationGuard webPorts = guard(new AddressPolicy(false, List.of(), List.of()), Set.of(80, 443));
    assertVerdict(webPorts, "http://public.test/", true);
    assertVerdict(webPorts, "https://public.test/", true);
    assertVerdict(webPorts, "http://public.test:8080/", false);
  }

  @Test
  @DisplayName("every port of the node (API, bridge, cluster, embedded PostgreSQL) on a local address is refused, even "
      + "when private networks and loopback are allowed; other ports and other hosts are not")
  void ownPortsRefused() {
    Set<Integer> own = Set.of(8080, 7000, 5701, 41234, 15432);
    DestinationGuard open = new DestinationGuard(vertx, new AddressPolicy(true, List.of(Cidr.parse("127.0.0.0/8")),
        List.of()), Set.of(), () -> own, Set.of(), Meters.of(vertx));
    for (int port : own) {
      assertVerdict(open, "http://127.0.0.1:" + port + "/", false);
      assertVerdict(open, "http://127.9.9.9:" + port + "/", false);
      assertVerdict(open, "http://[::1]:" + port + "/", false);
      assertVerdict(open, "http://internal.test:" + port + "/", false);
      assertVerdict(open, "http://0.0.0.0:" + port + "/", false);
      assertVerdict(open, "http://public.test:" + port + "/", true);
    }
    assertVerdict(open, "http://127.0.0.1:8081/", true);
  }

  @Test
  @DisplayName("a refused name's detail says it is refused, never the address it resolves to nor its block")
  void refusalDoesNotSayWhereANamePoints() {
    DestinationGuard strict = guard(new AddressPolicy(false, List.of(), List.of(Cidr.parse("93.184.216.0/24"))), Set.of());
    for (String host : List.of("internal.test", "metadata.test", "intranet.test", "mixed.test", "public.test")) {
      var verdict = strict.check(WebUrl.parse("url", "http://" + host + "/x"))
          .transform(ar -> io.vertx.core.Future.succeededFuture(ar)).await();
      assertThat(verdict.failed()).as(host).isTrue();
      assertThat(verdict.cause().getMessage()).as(host)
          .contains(host + " resolves to an address that is refused")
          .doesNotContain("127.0.0.1", "169.254", "10.1.2.3", "10.0.0.1", "93.184", "/8", "/16", "/24");
    }
  }

  @Test
  @DisplayName("an allowed name yields the address that was checked, so the fetch connects there and nowhere else")
  void connectsToCheckedAddress() {
    SocketAddress server = guard(new AddressPolicy(false, List.of(), List.of()), Set.of())
        .check(WebUrl.parse("url", "http://public.test:8080/")).await();
    assertThat(server.hostAddress()).isEqualTo("93.184.216.34");
    assertThat(server.port()).isEqualTo(8080);
  }

  private static DestinationGuard guard(AddressPolicy policy, Set<Integer> ports) {
    return new DestinationGuard(vertx, policy, ports, () -> Set.of(8080), Set.of(), Meters.of(vertx));
  }

  private static void assertVerdict(DestinationGuard guard, String url, boolean allowed) {
    WebUrl parsed;
    try {
      parsed = WebUrl.parse("url", url);
    } catch (ReplyException invalid) {
      // Some spellings never become a URL at all (java.net.URI finds no host in them): refused even earlier, 400.
      assertThat(allowed).as("%s should be allowed, but is not a valid URL", url).isFalse();
      assertThat(invalid.failureCode()).isEqualTo(400);
      return;
    }
    var verdict = guard.check(parsed).transform(ar -> io.vertx.core.Future.succeededFuture(ar)).await();
    if (allowed) {
      assertThat(verdict.succeeded()).as("%s should be allowed, got %s", url, verdict.cause()).isTrue();
    } else {
      assertThat(verdict.failed()).as("%s should be refused", url).isTrue();
      ReplyException e = (ReplyException) verdict.cause();
      assertThat(e.failureCode()).isEqualTo(403);
      assertThat(Failure.of(e.failureCode(), e.getMessage())).isEqualTo(Failure.DESTINATION_NOT_ALLOWED);
    }
  }
}
