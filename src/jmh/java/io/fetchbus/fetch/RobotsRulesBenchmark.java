package io.fetchbus.fetch;

import io.fetchbus.jmh.Inputs;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * robots.txt matching ({@link RobotsRules#isAllowed}, asked before every fetch that obeys robots), per URL, and
 * parsing (once per origin and cache period), per file. Run by bench/jmh.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 10, time = 1)  // on 2 shared cores the JIT needs about 10 s to settle
@Measurement(iterations = 5, time = 1)
public class RobotsRulesBenchmark {
  private static final int URLS = 20;
  private static final String AGENT = RobotsRules.agentToken("Fetchbus/0.1 (+https://github.com/fetchbus/fetchbus)");
  private static final String SHOP = "https://shop.example.com";

  /** Allowed for Fetchbus (the {@code *} group of jmh/robots.txt), some only thanks to a longer Allow. */
  private static final String[] ALLOWED = {
      "/", "/products/garden/hose-25m", "/products/garden/hose-25m?colour=green", "/category/garden/",
      "/blog/2024/06/spring-planting", "/static/css/site.4f2a9c.css", "/search/help", "/api/public/v1/stores?city=leeds",
      "/images/products/hose.jpg", "/about-us"};
  /** Disallowed: prefixes, wildcards in the middle and {@code $} anchors. */
  private static final String[] DISALLOWED = {
      "/checkout/payment", "/search?q=garden+hose", "/sale/garden?sort=price&page=2",
      "/products/garden/hose-25m/reviews/write", "/downloads/manual-hose-25m.pdf", "/category/garden/tools/hand/trowels/",
      "/blog/2024/06/spring?preview=true", "/static/img/logo.png", "/products/hose/compare?with=123",
      "/account/orders?sessionid=abc123"};

  private byte[] robotsTxt;
  private RobotsRules rules;
  private String[] urls;

  @Setup
  public void load() {
    robotsTxt = Inputs.robotsTxt();
    rules = RobotsRules.parse(Inputs.ROBOTS_URL, robotsTxt, "text/plain", AGENT);
    List<String> mixed = new ArrayList<>();
    for (int i = 0; i < ALLOWED.length; i++) {  // interleaved, so that the verdict is not predictable
      mixed.add(checked(ALLOWED[i], true));
      mixed.add(checked(DISALLOWED[i], false));
    }
    urls = mixed.toArray(String[]::new);
    if (urls.length != URLS) {
      throw new IllegalStateException("URLS is " + URLS + " but there are " + urls.length);
    }
  }

  /** The URL, after checking that the rules answer what the lists above say. */
  private String checked(String path, boolean allowed) {
    String url = SHOP + path;
    if (rules.isAllowed(url) != allowed) {
      throw new IllegalStateException(url + " should be " + (allowed ? "allowed" : "disallowed"));
    }
    return url;
  }

  @Benchmark
  @OperationsPerInvocation(URLS)
  public void isAllowed(Blackhole bh) {
    for (String url : urls) {
      bh.consume(rules.isAllowed(url));
    }
  }

  /** Consumed rather than returned: RobotsRules is package-private, a type JMH's generated code could not name. */
  @Benchmark
  public void parse(Blackhole bh) {
    bh.consume(RobotsRules.parse(Inputs.ROBOTS_URL, robotsTxt, "text/plain", AGENT));
  }
}
