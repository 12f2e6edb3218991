package io.fetchbus.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.SearchRequest;
import io.fetchbus.support.Poll;
import io.fetchbus.support.TestBase;
import io.fetchbus.support.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.dns.AddressResolverOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * GET /v1/search over pages really fetched from the test upstream, under two host names (alpha.test and beta.test,
 * both 127.0.0.1 in this Vert.x's hosts file) so that the host filter has something to tell apart.
 */
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class SearchEndpointTest extends TestBase {
  /** The corpus: name -> {title, text}. "solar" is in the title of one page and only in the text of others. */
  private static final Map<String, String[]> DOCS = Map.of(
      "title", new String[] {"Solar power at home", "Panels on the roof turn sunlight into electricity for the house."},
      "text", new String[] {"Energy notes", "Notes on heating. The neighbours put solar panels on their roof last year."},
      "wind", new String[] {"Wind and weather", "Wind farms, and on calm days panels: solar helps the wind."},
      "markup", new String[] {"Escaping", "Tom & Jerry say solar is <3 and 2 > 1."},
      "other", new String[] {"Lighthouses", "A lighthouse keeper's diary, with no word about the sun."});

  /** Page ids of the corpus by name, once {@link #corpus} has stored it. */
  private final Map<String, Long> ids = new HashMap<>();

  SearchEndpointTest() {
    super(new VertxOptions().setAddressResolverOptions(new AddressResolverOptions()
        .setHostsValue(Buffer.buffer("127.0.0.1 alpha.test\n127.0.0.1 beta.test\n"))));
  }

  @BeforeEach
  void deploy(VertxTestContext ctx) {
    deployWithUpstream(new JsonObject()).onComplete(ctx.succeedingThenComplete());
  }

  private static String html(String title, String text) {
    return "<!doctype html><html><head><title>" + escape(title) + "</title></head><body><main><p>" + escape(text)
        + "</p></main></body></html>";
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  /** Fetches one page through POST /v1/fetch, from host alpha.test or beta.test, and answers its id. */
  private Future<Long> store(String host, String name, String html) {
    String url = "http://" + host + ":" + up.port() + up.doc(name, html);
    return fb.postFetch(new JsonObject().put("url", url)).map(resp -> {
      if (resp.statusCode() != 201) {
        throw new AssertionError("fetching " + url + " answered " + resp.statusCode() + ": " + resp.bodyAsString());
      }
      return resp.bodyAsJsonObject().getLong("id");
    });
  }

  /**
   * Stores the corpus, one page after the other: "wind" from beta.test, the others from alpha.test; then waits
   * until the search index has caught up (its lag is 0 pages).
   */
  private Future<Void> corpus() {
    return stored().compose(v -> indexed());
  }

  /** Waits until every page stored so far is searchable: the answer's lag is 0 pages. */
  private Future<Void> indexed() {
    return Poll.until(vertx, () -> search(q("solar")).map(a -> a.getJsonObject("lag").getLong("pages") == 0));
  }

  private Future<Void> stored() {
    Future<Void> chain = Future.succeededFuture();
    for (String name : List.of("title", "text", "wind", "markup", "other")) {
      String[] doc = DOCS.get(name);
      chain = chain.compose(v -> store(name.equals("wind") ? "beta.test" : "alpha.test", name, html(doc[0], doc[1]))
          .map(id -> {
            ids.put(name, id);
            return null;
          }));
    }
    return chain;
  }

  private Future<JsonObject> search(String query) {
    return fb.get("/v1/search?" + query).map(resp -> {
      if (resp.statusCode() != 200) {
        throw new AssertionError("GET /v1/search?" + query + " answered " + resp.statusCode() + ": " + resp.bodyAsString());
      }
      return resp.bodyAsJsonObject();
    });
  }

  private static String q(String words) {
    return "q=" + URLEncoder.encode(words, StandardCharsets.UTF_8);
  }

  private static List<Long> idsOf(JsonObject answer) {
    List<Long> found = new ArrayList<>();
    answer.getJsonArray("items").forEach(item -> found.add(((JsonObject) item).getLong("id")));
    return found;
  }

  private JsonObject item(JsonObject answer, String name) {
    for (Object o : answer.getJsonArray("items")) {
      if (((JsonObject) o).getLong("id").equals(ids.get(name))) {
        return (JsonObject) o;
      }
    }
    throw new AssertionError(name + " is not in " + answer.encode());
  }

  @Test
  @DisplayName("a page with the word in its title ranks above pages with it only in their text, and items are page records with rank and snippet")
  void titleMatchRanksFirst(VertxTestContext ctx) {
    corpus().compose(v -> search(q("solar"))).onComplete(ctx.succeeding(answer -> ctx.verify(() -> {
      List<Long> found = idsOf(answer);
      assertThat(found).containsExactlyInAnyOrder(ids.get("title"), ids.get("text"), ids.get("wind"), ids.get("markup"));
      assertThat(found.get(0)).isEqualTo(ids.get("title"));
      JsonArray items = answer.getJsonArray("items");
      for (int i = 1; i < items.size(); i++) {
        assertThat(items.getJsonObject(i).getFloat("rank")).isLessThanOrEqualTo(items.getJsonObject(i - 1).getFloat("rank"));
      }
      assertThat(item(answer, "title").getFloat("rank")).isGreaterThan(item(answer, "text").getFloat("rank"));
      JsonObject first = items.getJsonObject(0);
      assertThat(first.getString("title")).isEqualTo("Solar power at home");
      assertThat(first.getString("url")).isEqualTo("http://alpha.test:" + up.port() + "/doc/title");
      assertThat(first.getString("host")).isEqualTo("alpha.test");
      assertThat(first.getInteger("status")).isEqualTo(200);
      assertThat(first.getString("fetchId")).isNotBlank();
      assertThat(first.getString("snippet")).isNotBlank();
      assertThat(answer.getValue("next")).isNull();
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("the snippet marks each match with <b></b> and escapes everything else the page's text holds")
  void snippetHighlights(VertxTestContext ctx) {
    corpus().compose(v -> search(q("solar"))).onComplete(ctx.succeeding(answer -> ctx.verify(() -> {
      assertThat(item(answer, "text").getString("snippet"))
          .isEqualTo("Notes on heating. The neighbours put <b>solar</b> panels on their roof last year.");
      assertThat(item(answer, "markup").getString("snippet"))
          .isEqualTo("Tom &amp; Jerry say <b>solar</b> is &lt;3 and 2 &gt; 1.");
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("stemming: a query word finds its other forms (panel finds Panels) and the snippet marks them")
  void stemming(VertxTestContext ctx) {
    corpus().compose(v -> search(q("panel"))).onComplete(ctx.succeeding(answer -> ctx.verify(() -> {
      assertThat(idsOf(answer)).containsExactlyInAnyOrder(ids.get("title"), ids.get("text"), ids.get("wind"));
      assertThat(item(answer, "title").getString("snippet")).startsWith("<b>Panels</b> on the roof");
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("\"quoted words\" must appear as a phrase, and -word excludes the pages that have it")
  void phraseAndExclusion(VertxTestContext ctx) {
    corpus()
        .compose(v -> search(q("\"solar panels\"")))
        .compose(phrase -> search(q("solar -wind")).compose(without -> search(q("solar or lighthouse")).map(either -> {
          ctx.verify(() -> {
            // "panels: solar" in the wind page has both words, but not as the phrase.
            assertThat(idsOf(phrase)).containsExactly(ids.get("text"));
            assertThat(idsOf(without)).containsExactlyInAnyOrder(ids.get("title"), ids.get("text"), ids.get("markup"));
            assertThat(idsOf(either)).hasSize(5);
          });
          return null;
        })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a page fetched again is found once, by what it says now; latest=false searches every copy")
  void newestCopyOnly(VertxTestContext ctx) {
    String solar = html("Village news", "The neighbours put solar panels on their roof.");
    String wind = html("Village news", "The neighbours put a wind turbine in their garden.");
    List<Long> copies = new ArrayList<>();
    store("alpha.test", "news", solar).compose(first -> store("alpha.test", "news", solar).compose(second ->
            store("alpha.test", "news", wind).map(third -> copies.addAll(List.of(first, second, third)))))
        .compose(v -> indexed())
        .compose(v -> Future.all(List.of(search(q("neighbours")), search(q("neighbours") + "&latest=false"),
            search(q("solar")), search(q("solar") + "&latest=false"), search(q("neighbours") + "&latest=true"))))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          assertThat(idsOf(all.resultAt(0))).containsExactly(copies.get(2));
          assertThat(idsOf(all.resultAt(1))).containsExactlyInAnyOrderElementsOf(copies);
          assertThat(idsOf(all.resultAt(2))).as("the old copies say solar, the page no longer does").isEmpty();
          assertThat(idsOf(all.resultAt(3))).containsExactlyInAnyOrder(copies.get(0), copies.get(1));
          assertThat(idsOf(all.resultAt(4))).containsExactly(copies.get(2));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("host keeps the pages of one host (case-insensitive); an unknown host finds nothing")
  void hostFilter(VertxTestContext ctx) {
    corpus()
        .compose(v -> search(q("solar") + "&host=beta.test"))
        .compose(beta -> search(q("solar") + "&host=ALPHA.test").compose(alpha -> search(q("solar") + "&host=gamma.test")
            .map(none -> {
              ctx.verify(() -> {
                assertThat(idsOf(beta)).containsExactly(ids.get("wind"));
                assertThat(idsOf(alpha)).containsExactlyInAnyOrder(ids.get("title"), ids.get("text"), ids.get("markup"));
                assertThat(none.getJsonArray("items")).isEmpty();
                assertThat(none.getValue("next")).isNull();
              });
              return null;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("jobId keeps the pages a crawl job stored; another job finds nothing")
  void jobIdFilter(VertxTestContext ctx) {
    corpus()
        .compose(v -> sql("INSERT INTO crawl_jobs (kind, spec, page_limit) VALUES ('crawl', '{}', 10) RETURNING id::text",
            Tuple.tuple()))
        .compose(job -> sql("UPDATE pages SET job_id = $1::uuid WHERE id = ANY($2) RETURNING id::text",
                Tuple.tuple().addString(job).addArrayOfLong(new Long[] {ids.get("text"), ids.get("wind")}))
            .compose(updated -> search(q("solar") + "&jobId=" + job))
            .compose(inJob -> search(q("solar") + "&jobId=" + job.toUpperCase())
                .compose(upper -> search(q("solar") + "&jobId=00000000-0000-4000-8000-000000000000").map(other -> {
                  ctx.verify(() -> {
                    assertThat(idsOf(inJob)).containsExactlyInAnyOrder(ids.get("text"), ids.get("wind"));
                    assertThat(idsOf(upper)).isEqualTo(idsOf(inJob));
                    assertThat(other.getJsonArray("items")).isEmpty();
                  });
                  return null;
                }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  /** Runs one statement on its own pool and answers the first column of the first row. */
  private Future<String> sql(String statement, Tuple params) {
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(1)).connectingTo(TestDatabase.connectOptions())
        .using(vertx).build();
    return pool.preparedQuery(statement).execute(params)
        .map(rows -> rows.iterator().next().getString(0))
        .eventually(pool::close);
  }

  @Test
  @DisplayName("paging with after visits every result exactly once, in relevance order, ties broken by id")
  void paginationVisitsEveryResultOnce(VertxTestContext ctx) {
    // Nine pages with "harbour" once to five times; pages with the same count have the same rank, so ties are many.
    Future<Void> stored = Future.succeededFuture();
    for (int i = 0; i < 9; i++) {
      String text = ("The harbour at dawn. ".repeat(1 + i % 5)) + "Boats and gulls.";
      String name = "harbour-" + i;
      stored = stored.compose(v -> store("alpha.test", name, html("Port " + name, text)).mapEmpty());
    }
    stored
        .compose(v -> indexed())
        .compose(v -> search(q("harbour") + "&limit=100"))
        .compose(all -> pages(q("harbour") + "&limit=2", null, new ArrayList<>()).map(paged -> {
          ctx.verify(() -> {
            assertThat(idsOf(all)).hasSize(9);
            List<Long> pagedIds = new ArrayList<>();
            paged.forEach(answer -> pagedIds.addAll(idsOf(answer)));
            assertThat(pagedIds).doesNotHaveDuplicates().isEqualTo(idsOf(all));
            assertThat(paged).hasSize(5);
            assertThat(paged.get(4).getValue("next")).isNull();
          });
          return null;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  /** Follows {@code next} from the first page to the last, collecting every answer. */
  private Future<List<JsonObject>> pages(String query, String after, List<JsonObject> answers) {
    return search(query + (after == null ? "" : "&after=" + after)).compose(answer -> {
      answers.add(answer);
      String next = answer.getString("next");
      if (next == null || answers.size() > 20) {
        return Future.succeededFuture(answers);
      }
      return pages(query, next, answers);
    });
  }

  static Stream<Arguments> queriesOfNothing() {
    return Stream.of(Arguments.of("the of and"), Arguments.of("!!! ... ???"), Arguments.of("-"),
        Arguments.of("\"\""), Arguments.of("or"));
  }

  @ParameterizedTest(name = "q={0}")
  @MethodSource("queriesOfNothing")
  @DisplayName("a query of only stop words or punctuation answers an empty list, not an error")
  void queryOfNothing(String query, VertxTestContext ctx) {
    corpus().compose(v -> search(q(query))).onComplete(ctx.succeeding(answer -> ctx.verify(() -> {
      assertThat(answer.getJsonArray("items")).isEmpty();
      assertThat(answer.getValue("next")).isNull();
      ctx.completeNow();
    })));
  }

  static Stream<Arguments> invalidSearches() {
    String cursorOfListing = "cDE6MTI"; // a GET /v1/pages cursor: "p1:12"
    String badRank = java.util.Base64.getUrlEncoder().withoutPadding()
        .encodeToString("s1:7fc00000:5".getBytes(StandardCharsets.UTF_8)); // NaN
    return Stream.of(
        Arguments.of("", "q: is required"),
        Arguments.of("q=", "q: is required"),
        Arguments.of("q=%20%20", "q: is required"),
        Arguments.of("q=" + "a".repeat(501), "q: is longer than 500 characters"),
        Arguments.of("q=solar%00", "q: must not contain NUL characters"),
        Arguments.of("q=solar&limit=0", "limit: must be between 1 and 100"),
        Arguments.of("q=solar&limit=101", "limit: must be between 1 and 100"),
        Arguments.of("q=solar&limit=ten", "limit: must be a whole number"),
        Arguments.of("q=solar&jobId=42", "jobId: must be a UUID"),
        Arguments.of("q=solar&jobId=1-2-3-4-5", "jobId: must be a UUID"),
        Arguments.of("q=solar&after=not-a-cursor", "after: is not a cursor"),
        Arguments.of("q=solar&after=" + cursorOfListing, "after: is not a cursor"),
        Arguments.of("q=solar&after=" + badRank, "after: is not a cursor"));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("invalidSearches")
  @DisplayName("an invalid search answers 400 problem+json naming the parameter")
  void invalidSearch(String query, String detail, VertxTestContext ctx) {
    fb.get("/v1/search?" + query).onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
      BadRequestTest.assertProblem(resp, 400, "/problems/invalid-request");
      assertThat(resp.bodyAsJsonObject().getString("detail")).startsWith(detail);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("a page of a million characters is stored, and found by its opening words but not past the indexed 100,000")
  void hugePage(VertxTestContext ctx) {
    // 130,000 distinct seven-letter Cyrillic words: about 1.9 MB of UTF-8, more lexemes than one tsvector can hold.
    StringBuilder text = new StringBuilder();
    for (int i = 1; i <= 130_000; i++) {
      text.append(cyrillic(i)).append(' ');
    }
    store("alpha.test", "huge", html("Huge page", text.toString()))
        .compose(id -> indexed().map(id))
        .compose(id -> search(q(cyrillic(5))).compose(early -> search(q(cyrillic(100_000))).map(late -> {
          ctx.verify(() -> {
            assertThat(idsOf(early)).containsExactly(id);
            assertThat(item(early, id).getString("snippet")).contains("<b>" + cyrillic(5) + "</b>");
            assertThat(late.getJsonArray("items")).isEmpty();
          });
          return null;
        })))
        .onComplete(ctx.succeedingThenComplete());
  }

  private static JsonObject item(JsonObject answer, long id) {
    for (Object o : answer.getJsonArray("items")) {
      if (((JsonObject) o).getLong("id") == id) {
        return (JsonObject) o;
      }
    }
    throw new AssertionError(id + " is not in " + answer.encode());
  }

  /** {@code n} as seven Cyrillic letters, one per decimal digit. */
  private static String cyrillic(int n) {
    String digits = String.format("%07d", n);
    StringBuilder word = new StringBuilder();
    for (char d : digits.toCharArray()) {
      word.append("абвгдежзик".charAt(d - '0'));
    }
    return word.toString();
  }

  @Test
  @DisplayName("the search is on the event bus too: fetchbus.pages.search answers, and a bad cursor is a 400 ReplyException")
  void overTheBus(VertxTestContext ctx) {
    var bus = vertx.eventBus();
    corpus()
        .compose(v -> bus.<JsonObject>request(Bus.PAGES_SEARCH, new SearchRequest("solar", "beta.test", null, 10, null).toJson()))
        .compose(reply -> {
          ctx.verify(() -> assertThat(idsOf(reply.body())).containsExactly(ids.get("wind")));
          return bus.<JsonObject>request(Bus.PAGES_SEARCH, new JsonObject().put("q", "solar").put("after", "nope"));
        })
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(err).isInstanceOf(ReplyException.class);
          assertThat(((ReplyException) err).failureCode()).isEqualTo(Failure.INVALID.code);
          ctx.completeNow();
        })));
  }
}
