package io.fetchbus.extract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fetchbus.bus.Failure;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** What a watch compares of a page: the main text after selectors, its SimHash and links (pure functions). */
class WatchTextTest {
  private static final String BODY = "Fetchbus keeps a set of pages fresh and says when something really changed on one"
      + " of them. The watch compares the main text of each page with the last version it kept, and a near duplicate"
      + " test over word shingles lets a counter or a time change without raising an alert, while a paragraph"
      + " rewritten or removed is reported with a diff of the lines that moved and the links that came and went.";

  private static JsonObject read(String html, JsonObject options) throws Exception {
    return WatchText.of("http://example.com/", "text/html; charset=utf-8", Buffer.buffer(html), options);
  }

  private static String page(String time, String token, String extra) {
    return "<html><head><meta name=csrf content=" + token + "></head><body><nav>Menu " + time + "</nav><main><p>"
        + BODY + "</p><p>" + extra + "</p><p class=stamp>Rendered at " + time + "</p><aside class=ad>Buy " + token
        + "</aside><a href=/next>next</a><input type=hidden value=" + token + "></main><footer>" + time
        + "</footer></body></html>";
  }

  private static int distance(JsonObject a, JsonObject b) {
    return Long.bitCount(a.getLong("simhash") ^ b.getLong("simhash"));
  }

  @Test
  @DisplayName("the main text leaves out navigation, footer and hidden tokens, and the links are absolute URLs")
  void mainTextOnly() throws Exception {
    JsonObject read = read(page("10:00", "tok-secret", "Extra."), new JsonObject());
    assertThat(read.getString("text")).contains("Fetchbus keeps a set").contains("Rendered at 10:00")
        .doesNotContain("Menu").doesNotContain("tok-secret");
    assertThat(read.getJsonArray("links")).containsExactly("http://example.com/next");
  }

  @Test
  @DisplayName("a changed time moves the SimHash by a few bits; a rewritten paragraph by many more")
  void noiseIsNear() throws Exception {
    JsonObject before = read(page("10:00", "a", "The price is forty euros."), new JsonObject());
    JsonObject noise = read(page("10:05", "b", "The price is forty euros."), new JsonObject());
    JsonObject change = read(page("10:05", "b", "Everything below was rewritten: a new plan, a new price of fifty"
        + " euros a month, a new support line and a discount for the first year."), new JsonObject());
    assertThat(distance(before, before)).isZero();
    assertThat(distance(before, noise)).isLessThanOrEqualTo(10);
    assertThat(distance(before, change)).isGreaterThan(distance(before, noise)).isGreaterThan(10);
  }

  @Test
  @DisplayName("exclude removes what it matches; include keeps only what it matches; a bad selector is a 400")
  void selectors() throws Exception {
    String html = page("10:00", "tok", "Extra.");
    assertThat(read(html, new JsonObject().put("exclude", ".stamp, .ad")).getString("text"))
        .doesNotContain("Rendered at").doesNotContain("Buy").contains("Fetchbus keeps");
    assertThat(read(html, new JsonObject().put("include", ".stamp")).getString("text")).isEqualTo("Rendered at 10:00");
    assertThatThrownBy(() -> read(html, new JsonObject().put("include", "p[")))
        .satisfies(e -> assertThat(Failure.INVALID.is(e)).isTrue());
  }
}
