package io.fetchbus.crawl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import java.util.concurrent.TimeUnit;

/** Which links a crawl follows, decided by the spec alone. */
class CrawlScopeTest {
  private static CrawlScope scope(JsonObject spec) {
    return new CrawlScope(CrawlSpec.from(spec.put("url", "https://www.example.co.uk/start"), 1000));
  }

  private static String followed(CrawlScope scope, String link) {
    var url = scope.follow(link);
    return url == null ? null : url.key();
  }

  @Test
  @DisplayName("by default only the seed's host; allowSubdomains widens to the registrable domain; allowExternalLinks to all")
  void hosts() {
    CrawlScope same = scope(new JsonObject());
    assertThat(followed(same, "https://www.example.co.uk/a")).isEqualTo("https://www.example.co.uk/a");
    assertThat(followed(same, "https://blog.example.co.uk/a")).isNull();
    assertThat(followed(same, "https://example.co.uk/a")).isNull();

    CrawlScope subdomains = scope(new JsonObject().put("allowSubdomains", true));
    assertThat(followed(subdomains, "https://blog.example.co.uk/a")).isNotNull();
    assertThat(followed(subdomains, "https://example.co.uk/a")).isNotNull();
    // co.uk is a public suffix: another site under it is not a subdomain of the seed's.
    assertThat(followed(subdomains, "https://other.co.uk/a")).isNull();
    assertThat(followed(subdomains, "https://evilexample.co.uk/a")).isNull();

    CrawlScope external = scope(new JsonObject().put("allowExternalLinks", true));
    assertThat(followed(external, "https://elsewhere.org/a")).isNotNull();
    assertThat(followed(external, "ftp://elsewhere.org/a")).isNull();
  }

  @Test
  @DisplayName("patterns are found in the path, or in the whole URL with regexOnFullURL")
  void patterns() {
    CrawlScope paths = scope(new JsonObject().put("includePaths", new JsonArray().add("^/blog/"))
        .put("excludePaths", new JsonArray().add("/draft")));
    assertThat(followed(paths, "https://www.example.co.uk/blog/post")).isNotNull();
    assertThat(followed(paths, "https://www.example.co.uk/news/blog/post")).isNull();
    assertThat(followed(paths, "https://www.example.co.uk/blog/draft-1")).isNull();

    CrawlScope full = scope(new JsonObject().put("regexOnFullURL", true)
        .put("includePaths", new JsonArray().add("^https://www\\.example\\.co\\.uk/blog/")));
    assertThat(followed(full, "https://www.example.co.uk/blog/post")).isNotNull();
    assertThat(followed(full, "https://www.example.co.uk/other")).isNull();
  }

  @Test
  @DisplayName("pathPrefix keeps the links under a path, compared in canonical form; the seed's host still applies")
  void pathPrefix() {
    CrawlScope docs = scope(new JsonObject().put("pathPrefix", "/d%6Fcs/"));
    assertThat(followed(docs, "https://www.example.co.uk/docs/a")).isNotNull();
    assertThat(followed(docs, "https://www.example.co.uk/docs/")).isNotNull();
    assertThat(followed(docs, "https://www.example.co.uk/docs")).isNull();
    assertThat(followed(docs, "https://www.example.co.uk/blog/docs/a")).isNull();
    assertThat(followed(docs, "https://elsewhere.org/docs/a")).isNull();
    // A string prefix, as Firecrawl compares it: /docs matches /docs2 too.
    assertThat(followed(scope(new JsonObject().put("pathPrefix", "/docs")), "https://www.example.co.uk/docs2")).isNotNull();
    for (String bad : new String[] {"docs", "/a?b=1", "/a#b"}) {
      assertThatThrownBy(() -> scope(new JsonObject().put("pathPrefix", bad))).hasMessageContaining("pathPrefix");
    }
  }

  @Test
  @DisplayName("maxPathDepth counts path segments beyond the seed's, not empty ones nor index.html or index.php")
  void maxPathDepth() {
    // The seed is /start: one segment; maxPathDepth 1 allows two.
    CrawlScope shallow = scope(new JsonObject().put("maxPathDepth", 1));
    assertThat(followed(shallow, "https://www.example.co.uk/a/b")).isNotNull();
    assertThat(followed(shallow, "https://www.example.co.uk/a//b/index.html")).isNotNull();
    assertThat(followed(shallow, "https://www.example.co.uk/a/b/c")).isNull();
    assertThat(followed(shallow, "https://www.example.co.uk/a/b/c?x=/y/z")).isNull();
    assertThat(followed(scope(new JsonObject().put("maxPathDepth", 0)), "https://www.example.co.uk/other")).isNotNull();
    assertThat(followed(scope(new JsonObject().put("maxPathDepth", 0)), "https://www.example.co.uk/a/b")).isNull();
    assertThat(CrawlScope.segments("/a/index.php/b/")).isEqualTo(2);
  }

  @Test
  @DisplayName("ignoreQueryParameters makes URLs that differ by their query one URL")
  void query() {
    CrawlScope ignoring = scope(new JsonObject().put("ignoreQueryParameters", true));
    assertThat(followed(ignoring, "https://www.example.co.uk/list?page=2#x")).isEqualTo("https://www.example.co.uk/list");
    CrawlScope keeping = scope(new JsonObject());
    assertThat(followed(keeping, "https://www.example.co.uk/list?page=2")).isEqualTo("https://www.example.co.uk/list?page=2");
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.SECONDS) // unbounded, this match would outlast the universe
  @DisplayName("a catastrophically backtracking pattern costs a bounded number of steps and follows nothing")
  void regexBudget() {
    CrawlScope evil = scope(new JsonObject().put("includePaths", new JsonArray().add("^/(a+)+$")));
    String path = "https://www.example.co.uk/" + "a".repeat(40) + "!";
    assertThat(followed(evil, path)).isNull();
    assertThat(followed(evil, "https://www.example.co.uk/aaaa")).isNotNull();
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.SECONDS) // a safety net: the budget, not the clock, is what is asserted
  @DisplayName("a page's links share one regex budget: five backtracking patterns over 1,000 long links cost at most "
      + "the page's steps, the links they could not decide are returned as undecided, and cheap links before them "
      + "are still followed")
  void pageBudget() {
    CrawlScope evil = scope(new JsonObject().put("excludePaths",
        new JsonArray().add("b*Z0").add("b*Z1").add("b*Z2").add("b*Z3").add("b*Z4")));
    java.util.List<String> links = new java.util.ArrayList<>();
    for (int i = 0; i < 10; i++) {
      links.add("https://www.example.co.uk/cheap/" + i);
    }
    for (int i = 0; i < 1000; i++) {
      links.add("https://www.example.co.uk/" + i + "/" + "b".repeat(400));
    }
    LinkSelection selected = LinkSelection.of(evil, links, 2000);
    assertThat(selected.followed()).hasSize(10);
    assertThat(selected.undecided().size() + selected.followed().size()).isEqualTo(1010);
    assertThat(selected.undecided().getJsonObject(0).getString("url")).endsWith("b".repeat(400));
  }

  @Test
  @DisplayName("a budget spends each character read once for the link and once for the page, and stops at either")
  void budgetCountsSteps() {
    RegexBudget page = RegexBudget.forLinks(1);
    CrawlScope plain = scope(new JsonObject().put("excludePaths", new JsonArray().add("/never")));
    assertThat(plain.judge("https://www.example.co.uk/a", page).decision()).isEqualTo(CrawlScope.Decision.FOLLOW);
    CrawlScope evil = scope(new JsonObject().put("excludePaths", new JsonArray().add("b*Z0")));
    String longLink = "https://www.example.co.uk/" + "b".repeat(1000);
    // 1,000 characters read about n²/2 = 500,000 times: past one link's 200,000 steps.
    assertThat(evil.judge(longLink, page).decision()).isEqualTo(CrawlScope.Decision.UNDECIDED);
    assertThat(evil.judge("https://www.example.co.uk/" + "b".repeat(100), page).decision())
        .isEqualTo(CrawlScope.Decision.FOLLOW);
  }
}
