package io.fetchbus.extract;

import io.fetchbus.jmh.Inputs;
import io.vertx.core.json.JsonArray;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Link extraction from an already parsed page ({@link PageLinks#of}: select, resolve, canonicalise, dedup), apart
 * from parsing, which {@link ExtractionBenchmark#parse} measures. Run by bench/jmh; the time is per page.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 10, time = 1)  // on 2 shared cores the JIT needs about 10 s to settle
@Measurement(iterations = 5, time = 1)
public class PageLinksBenchmark {
  /** The article's 15 links less the mailto: one. */
  private static final int EXPECTED_LINKS = 14;

  private Document page;

  @Setup
  public void parse() throws IOException {
    page = Jsoup.parse(new ByteArrayInputStream(Inputs.article()), "UTF-8", Inputs.ARTICLE_URL);
    int found = PageLinks.of(page).size();
    if (found != EXPECTED_LINKS) {  // the input is not what the numbers claim to measure
      throw new IllegalStateException("expected " + EXPECTED_LINKS + " links in the article, found " + found);
    }
  }

  @Benchmark
  public JsonArray links() {
    return PageLinks.of(page);  // reads the tree only, so one parse serves every invocation
  }
}
