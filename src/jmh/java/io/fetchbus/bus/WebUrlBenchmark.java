package io.fetchbus.bus;

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
 * URL canonicalisation ({@link WebUrl#parse} and its key), which every request and every link of every page goes
 * through. Run by bench/jmh; the time is per URL.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 10, time = 1)  // on 2 shared cores the JIT needs about 10 s to settle
@Measurement(iterations = 5, time = 1)
public class WebUrlBenchmark {
  private static final int MIX_SIZE = 12;

  /** Each of these exercises one step of canonicalisation; all are valid, so no exception is measured. */
  private String[] mix = {
      "HTTP://WWW.Example.COM:80/index.html",                                    // case of scheme and host, default port
      "https://example.com:443/a/./b/../c/page.html?x=1",                        // dot segments
      "https://example.com/%7euser/%2fdocs/%e2%82%ac?q=%41%42",                  // escapes decoded or upper-cased
      "https://b\u00fccher.example/stra\u00dfe?seite=2",                        // IDN host, non-ASCII path
      "https://\u65e5\u672c\u8a9e.jp/\u30d1\u30b9",                              // IDN host, non-Latin path
      "http://example.com:8080/api/v1/items?id=42&sort=desc#reviews",            // explicit port, fragment
      "https://shop.example.co.uk/products/widgets?utm_source=newsletter&utm_medium=email&utm_campaign=spring&color=blue",
      "https://example.com",                                                     // empty path
      "https://[2001:db8::1]:8443/status",                                       // IPv6 literal
      "https://example.com/search?q=caf%C3%A9+cr%C3%A8me&lang=fr",               // encoded query
      "https://example.com/wiki/{Template}|Main",                                // characters browsers encode
      "https://news.example.com/2024/06/18/a-long-article-slug-with-many-words-for-search-engines/",
  };
  /** The common case: an ordinary absolute link, already canonical. */
  private String plain = "https://blog.example.org/2024/03/politeness.html";

  @Setup
  public void check() {
    if (mix.length != MIX_SIZE) {
      throw new IllegalStateException("MIX_SIZE is " + MIX_SIZE + " but the mix has " + mix.length + " URLs");
    }
  }

  @Benchmark
  @OperationsPerInvocation(MIX_SIZE)
  public void mix(Blackhole bh) {
    for (String url : mix) {
      bh.consume(WebUrl.parse("url", url).key());
    }
  }

  @Benchmark
  public String plain() {
    return WebUrl.parse("url", plain).key();
  }
}
