package io.fetchbus.search;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.vertx.core.Future;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.LowerCaseFilter;
import org.apache.lucene.analysis.StopFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishPossessiveFilter;
import org.apache.lucene.analysis.snowball.SnowballFilter;
import org.apache.lucene.analysis.standard.StandardTokenizer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.tokenattributes.PositionIncrementAttribute;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.tartarus.snowball.ext.EnglishStemmer;

/**
 * The search analysis made in Java agrees with PostgreSQL's {@code english} configuration on ordinary prose: the
 * same lexemes at the same positions with the same weights, and the same tsquery for web-search queries. Checked
 * against a real PostgreSQL, which is the reference.
 */
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class SearchAnalysisTest extends TestBase {
  private static final String WORDS = "the of and to in is for that on with as by it from at this be are an or was "
      + "running runs ran connection connections connected generously generous happiness happily studies studying "
      + "national nationality relational relate relating university universal organization organize organizing "
      + "system data service request page site link crawl index search store cache queue worker event loop "
      + "history city river market language music science school church village county family government";

  private Pool pool;

  @BeforeEach
  void connect() {
    pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(1)).connectingTo(TestDatabase.connectOptions())
        .using(vertx).build(); // closed with the test's Vert.x
  }

  /** Sentences of the words above, in a fixed random order, with capitals, commas and full stops. */
  private static String prose(Random r, int words) {
    String[] vocabulary = WORDS.split(" ");
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < words; i++) {
      String w = vocabulary[r.nextInt(vocabulary.length)];
      boolean sentenceStart = i % 9 == 0;
      out.append(sentenceStart ? Character.toUpperCase(w.charAt(0)) + w.substring(1) : w)
          .append(i % 9 == 8 ? ". " : i % 5 == 4 ? ", " : " ");
    }
    return out.toString();
  }

  @Test
  @DisplayName("a page's vector equals setweight(to_tsvector('english', title), 'A') || setweight(text, 'B')")
  void vectorsAgreeWithPostgres(VertxTestContext ctx) {
    Random r = new Random(7);
    List<String[]> pages = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      pages.add(new String[] {prose(r, 3 + r.nextInt(6)), prose(r, 50 + r.nextInt(1500))});
    }
    pages.add(new String[] {null, "Only text, no title: 42 apples and 3.14 pies in 2024."});
    pages.add(new String[] {"The title alone", null});
    pages.add(new String[] {"The and of", "to be or not to be"});
    List<Future<Row>> checks = new ArrayList<>();
    for (String[] p : pages) {
      checks.add(pool.preparedQuery("""
          SELECT $1::text::tsvector = setweight(to_tsvector('english', COALESCE($2, '')), 'A')
                                || setweight(to_tsvector('english', COALESCE($3, '')), 'B') AS same,
                 $1::text::tsvector::text AS ours,
                 (setweight(to_tsvector('english', COALESCE($2, '')), 'A')
                  || setweight(to_tsvector('english', COALESCE($3, '')), 'B'))::text AS theirs
          """).execute(Tuple.of(SearchVector.of(p[0], p[1]), p[0], p[1])).map(rows -> rows.iterator().next()));
    }
    Future.all(checks).onComplete(ctx.succeeding(all -> ctx.verify(() -> {
      for (Future<Row> check : checks) {
        Row row = check.result();
        assertThat(row.getString("ours")).isEqualTo(row.getString("theirs"));
        assertThat(row.getBoolean("same")).isTrue();
      }
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("a web-search query becomes the tsquery websearch_to_tsquery('english') makes of it")
  void queriesAgreeWithPostgres(VertxTestContext ctx) {
    List<String> queries = List.of("connections", "running universities", "\"national university\" -river",
        "\"state of the art\"", "music or science", "cache or", "or cache", "-\"event loop\" queue",
        "Studies, organizing; happily!", "crawl   index    search");
    List<Future<Row>> checks = new ArrayList<>();
    for (String q : queries) {
      checks.add(pool.preparedQuery("SELECT $1::text::tsquery::text AS ours, websearch_to_tsquery('english', $2)::text AS theirs")
          .execute(Tuple.of(SearchQuery.of(q), q)).map(rows -> rows.iterator().next()));
    }
    Future.all(checks).onComplete(ctx.succeeding(all -> ctx.verify(() -> {
      for (int i = 0; i < queries.size(); i++) {
        Row row = checks.get(i).result();
        assertThat(row.getString("ours")).as(queries.get(i)).isEqualTo(row.getString("theirs"));
      }
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("a query with no word to search for is no query; quotes and backslashes are escaped")
  void emptyAndEscaped() {
    assertThat(SearchQuery.of("the of and")).isNull();
    assertThat(SearchQuery.of("!!! ... ---")).isNull();
    assertThat(SearchQuery.of("-the")).isNull();
    assertThat(SearchVector.of(null, null)).isEmpty();
    assertThat(SearchVector.quote("it's\\", new StringBuilder()).toString()).isEqualTo("'it''s\\\\'");
  }

  @Test
  @DisplayName("one lookup per word gives what Lucene's possessive, lower-case, stop and Snowball filters give")
  void sameAsLucenesFilters() throws IOException {
    StringBuilder text = new StringBuilder("The THE the Müller's MÜLLER’S müller＇S IT'S it's Its. ΟΔΟΣ Οδός "
        + "İstanbul ISTANBUL Straße STRASSE don't O'Neill's 3.14 2024 U.S.A. e-mail user@example.com "
        + "RUNNING Runs ran. "
        // Longer than the words the filter remembers: analysed anew each time.
        + "Pneumonoultramicroscopicsilicovolcanoconiosis PNEUMONOULTRAMICROSCOPICSILICOVOLCANOCONIOSIS's "
        + "Pneumonoultramicroscopicsilicovolcanoconiosis’s. ");
    Random r = new Random(11);
    Random words = new Random(3);
    for (int i = 0; i < 20_000; i++) {  // more distinct words than the filter remembers: it starts over
      text.append(prose(r, 3)).append(Long.toString(words.nextLong() & Long.MAX_VALUE, 36)).append("'s ");
    }
    List<SearchAnalyzer.Positioned> reference = lucene(text.toString());
    assertThat(reference).hasSizeGreaterThan(60_000);
    assertThat(SearchAnalyzer.lexemes(text.toString())).isEqualTo(reference);
  }

  @Test
  @DisplayName("random text of tricky characters gets the lexemes and positions Lucene's own chain gives it")
  void sameAsLuceneOnRandomText() throws IOException {
    // Letters, digits and every ASCII mark a word rule looks at, whitespace of each kind, and non-ASCII that joins
    // (curly apostrophe, middle dot, combining accent, zero-width joiner), stands alone (CJK, emoji) or breaks.
    String[] ascii = {"a", "B", "z", "e", "s", "S", "7", "0", "_", ".", ",", ";", ":", "'", "\"", "-", "/", "@",
        "#", "$", "&", "(", ")", " ", " ", " ", "\t", "\n", "\r", "\u000B", "\u000C", "\u0000", "\u007F",
        "running ", "the ", "it's ", "U.S.A. ", "3.14 ", "1,000 ", "a.b_c.d ", "x1.2;3 "};
    String[] other = {"\u2019", "\u00B7", "\u00A0", "\u0301", "\u200D", "\u00E9", "\u00DF", "\u4E2D",
        "\u3042", "\u30A2", "\uD83D\uDE00", "\u0E01", "\u05D0", "\uFF07", "\u2028", "\u3000"};
    Random r = new Random(5);
    for (int i = 0; i < 4_000; i++) {
      StringBuilder text = new StringBuilder();
      int length = r.nextInt(i % 10 == 0 ? 2_000 : 60);
      int otherPercent = i % 3 == 0 ? 0 : i % 3 == 1 ? 3 : 30;
      for (int k = 0; k < length; k++) {
        String[] from = r.nextInt(100) < otherPercent ? other : ascii;
        text.append(from[r.nextInt(from.length)]);
      }
      if (i % 50 == 0) {  // a word longer than the tokenizer's longest: the whole text goes to it
        text.insert(r.nextInt(text.length() + 1), "x".repeat(250 + r.nextInt(20)));
      }
      String t = text.toString();
      assertThat(SearchAnalyzer.lexemes(t)).as("%s", t.chars().mapToObj(c -> Integer.toHexString(c)).toList())
          .isEqualTo(lucene(t));
    }
  }

  /** What Lucene's own tokenizer and filters make of {@code text}: the reference. */
  private static List<SearchAnalyzer.Positioned> lucene(String text) throws IOException {
    List<SearchAnalyzer.Positioned> reference = new ArrayList<>();
    try (Analyzer lucene = new Analyzer() {
      @Override
      protected TokenStreamComponents createComponents(String field) {
        StandardTokenizer tokens = new StandardTokenizer();
        TokenStream out = new LowerCaseFilter(new EnglishPossessiveFilter(tokens));
        return new TokenStreamComponents(tokens,
            new SnowballFilter(new StopFilter(out, SearchAnalyzer.STOP_WORDS), new EnglishStemmer()));
      }
    }; TokenStream tokens = lucene.tokenStream("", text)) {
      CharTermAttribute term = tokens.addAttribute(CharTermAttribute.class);
      PositionIncrementAttribute step = tokens.addAttribute(PositionIncrementAttribute.class);
      tokens.reset();
      int position = 0;
      while (tokens.incrementToken()) {
        position += step.getPositionIncrement();
        reference.add(new SearchAnalyzer.Positioned(term.toString(), position));
      }
      tokens.end();
    }
    return reference;
  }
}
