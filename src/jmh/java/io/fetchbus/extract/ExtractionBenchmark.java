package io.fetchbus.extract;

import io.fetchbus.bus.ContentFormats;
import io.fetchbus.jmh.Inputs;
import io.fetchbus.search.SearchAnalyzer;
import io.fetchbus.search.SearchVector;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.EnumSet;
import java.util.Set;
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
 * Full extraction of one 14 KB page by {@link HtmlExtractor}, as the extract verticle runs it, the service's biggest
 * CPU cost per page. Each benchmark parses the page anew, as the service does; {@link #parse} is that floor alone.
 * Run by bench/jmh; the time is per page.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 15, time = 1)  // jsoup and flexmark: about 15 s to settle on 2 shared cores
@Measurement(iterations = 5, time = 1)
public class ExtractionBenchmark {
  private static final String CONTENT_TYPE = "text/html; charset=utf-8";

  private final Set<Format> metadataAndText = EnumSet.of(Format.METADATA, Format.TEXT);
  private final Set<Format> markdown = EnumSet.of(Format.MARKDOWN);
  /** What is extracted for every page stored, from the same list the service sends. */
  private final Set<Format> stored = Format.parse(new JsonArray(ContentFormats.EXTRACTED));
  private byte[] bytes;
  private Buffer body;
  private String title;
  private String text;

  @Setup
  public void load() throws IOException {
    bytes = Inputs.article();
    body = Buffer.buffer(bytes);
    JsonObject all = HtmlExtractor.extract(Inputs.ARTICLE_URL, CONTENT_TYPE, body, stored);
    if (all.getString("title") == null || all.getString("text").isEmpty() || all.getJsonArray("links").isEmpty()
        || HtmlExtractor.extract(Inputs.ARTICLE_URL, CONTENT_TYPE, body, markdown).getString("markdown").isEmpty()) {
      throw new IllegalStateException("the article did not extract: " + all.encode());
    }
    title = all.getString("title");
    text = all.getString("text");
  }

  @Benchmark
  public Document parse() throws IOException {
    return Jsoup.parse(new ByteArrayInputStream(bytes), "utf-8", Inputs.ARTICLE_URL);
  }

  /** What the crawl benchmark (bench/run, scenario 3) asks for. */
  @Benchmark
  public JsonObject metadataAndText() throws IOException {
    return HtmlExtractor.extract(Inputs.ARTICLE_URL, CONTENT_TYPE, body, metadataAndText);
  }

  @Benchmark
  public JsonObject markdown() throws IOException {
    return HtmlExtractor.extract(Inputs.ARTICLE_URL, CONTENT_TYPE, body, markdown);
  }

  /** Metadata, text and links: every page stored pays this (markdown only when it is asked for). */
  @Benchmark
  public JsonObject stored() throws IOException {
    return HtmlExtractor.extract(Inputs.ARTICLE_URL, CONTENT_TYPE, body, stored);
  }

  /** What the extract workers do for every page stored with search on: {@link #stored} and its search vector. */
  @Benchmark
  public String storedAndSearchable() throws IOException {
    JsonObject out = HtmlExtractor.extract(Inputs.ARTICLE_URL, CONTENT_TYPE, body, stored);
    return SearchVector.of(out.getString("title"), out.getString("text"));
  }

  /** The search vector alone, of the article's title and text: the search analysis of {@link #storedAndSearchable}. */
  @Benchmark
  public String searchVector() {
    return SearchVector.of(title, text);
  }

  /** The words and lexemes of the article's text alone, without the vector made of them. */
  @Benchmark
  public int searchAnalysis() {
    return SearchAnalyzer.analyze(text, (lexeme, position) -> {});
  }
}
