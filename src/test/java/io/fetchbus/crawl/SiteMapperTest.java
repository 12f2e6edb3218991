package io.fetchbus.crawl;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.LinkedHashSet;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Which of the URLs a map found are the site's, and how they are written. */
class SiteMapperTest {
  private static final List<String> FOUND = List.of("https://example.com/", "https://www.example.com/a?x=1#top",
      "https://example.com/a?x=2", "https://blog.example.com/post", "https://example.org/other", "ftp://example.com/f",
      "https://example.com/Shop?q=%20y", "not a url");

  private static List<Object> select(JsonObject spec) {
    return SiteMapper.select(SiteMapper.Spec.from(spec.put("url", "https://example.com/"), 10_000),
        new LinkedHashSet<>(FOUND)).getList();
  }

  @Test
  @DisplayName("by default: same site (www. included), http(s) only, queries and fragments dropped, each URL once")
  void defaults() {
    assertThat(select(new JsonObject())).containsExactly("https://example.com/", "https://www.example.com/a",
        "https://example.com/a", "https://example.com/Shop");
  }

  @Test
  @DisplayName("ignoreQueryParameters false keeps queries as escaped; includeSubdomains adds the subdomains")
  void queriesAndSubdomains() {
    assertThat(select(new JsonObject().put("ignoreQueryParameters", false).put("includeSubdomains", true)))
        .containsExactly("https://example.com/", "https://www.example.com/a?x=1", "https://example.com/a?x=2",
            "https://blog.example.com/post", "https://example.com/Shop?q=%20y");
  }

  @Test
  @DisplayName("search matches ignoring case, and limit keeps the first URLs")
  void searchAndLimit() {
    assertThat(select(new JsonObject().put("search", "shop"))).containsExactly("https://example.com/Shop");
    assertThat(select(new JsonObject().put("limit", 2))).containsExactly("https://example.com/",
        "https://www.example.com/a");
  }
}
