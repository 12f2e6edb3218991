package io.fetchbus.extract;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.Charset;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class HtmlExtractorTest {
  private static final String PAGE = """
      <!doctype html>
      <html lang="en-GB">
      <head>
        <title>  The Page  </title>
        <meta name="description" content=" What it is about. ">
        <link rel="canonical" href="/articles/1?ref=x#top">
        <meta property="og:title" content="OG Title">
        <meta property="og:description" content="OG description">
        <meta property="og:image" content="https://cdn.example.com/a.png">
        <meta property="og:image" content="https://cdn.example.com/second.png">
        <meta property="og:type" content="article">
        <meta property="og:url" content="https://example.com/articles/1">
        <style>.hidden { display: none }</style>
        <script>var tracking = "SCRIPT TEXT";</script>
      </head>
      <body>
        <header><a href="/">SITE BANNER</a></header>
        <nav><a href="/home">NAV HOME</a> <a href="/about">NAV ABOUT</a></nav>
        <div role="navigation">ROLE NAV</div>
        <main>
          <article>
            <header><h1>Main Heading</h1></header>
            <p>First   paragraph
               with <a href="/docs/guide">a guide</a>.</p>
            <p>Second paragraph.<br>Next line.</p>
            <form><input name="q"> FORM TEXT</form>
          </article>
        </main>
        <aside>ASIDE TEXT</aside>
        <noscript>NOSCRIPT TEXT</noscript>
        <footer>FOOTER TEXT</footer>
      </body>
      </html>
      """;

  private static JsonObject extract(String html, Format... formats) throws Exception {
    return HtmlExtractor.extract("https://example.com/articles/1", "text/html; charset=UTF-8", Buffer.buffer(html),
        EnumSet.of(formats[0], formats));
  }

  @Test
  @DisplayName("the title is read from HTML, trimmed")
  void title() throws Exception {
    Buffer html = Buffer.buffer("<html><head><title>\n  Hello  </title></head><body></body></html>");
    assertThat(HtmlExtractor.extract("http://x/", "text/html", html).getString("title")).isEqualTo("Hello");
  }

  @Test
  @DisplayName("the charset comes from Content-Type, else from the meta tag")
  void charsets() throws Exception {
    Buffer latin1 = Buffer.buffer("<title>caf\u00e9</title>".getBytes(Charset.forName("ISO-8859-1")));
    assertThat(HtmlExtractor.extract("http://x/", "text/html; charset=ISO-8859-1", latin1).getString("title")).isEqualTo("caf\u00e9");
    Buffer meta = Buffer.buffer(("<meta charset=\"windows-1252\"><title>\u201cq\u201d</title>").getBytes(Charset.forName("windows-1252")));
    assertThat(HtmlExtractor.extract("http://x/", "text/html", meta).getString("title")).isEqualTo("\u201cq\u201d");
    assertThat(HtmlExtractor.extract("http://x/", "text/html; charset=bogus\u00ff", Buffer.buffer("<title>t</title>"))
        .getString("title")).isEqualTo("t");
  }

  @Test
  @DisplayName("non-HTML bodies and pages without a title have a null title")
  void noTitle() throws Exception {
    assertThat(HtmlExtractor.extract("http://x/", "application/json", Buffer.buffer("{\"title\":\"no\"}")).getValue("title")).isNull();
    assertThat(HtmlExtractor.extract("http://x/", "text/html", Buffer.buffer("<p>no title</p>")).getValue("title")).isNull();
    assertThat(HtmlExtractor.extract("http://x/", null, Buffer.buffer("<title>x</title>")).getValue("title")).isNull();
  }

  @Test
  @DisplayName("without formats the reply holds the title and metadata only")
  void metadataByDefault() throws Exception {
    JsonObject out = HtmlExtractor.extract("https://example.com/", "text/html", Buffer.buffer(PAGE));
    assertThat(out.fieldNames()).containsExactlyInAnyOrder("title", "metadata");
  }

  @Test
  @DisplayName("metadata holds the description, absolute canonical URL, language and Open Graph properties")
  void metadata() throws Exception {
    JsonObject metadata = extract(PAGE, Format.METADATA).getJsonObject("metadata");
    assertThat(metadata.getString("title")).isEqualTo("The Page");
    assertThat(metadata.getString("description")).isEqualTo("What it is about.");
    assertThat(metadata.getString("canonicalUrl")).isEqualTo("https://example.com/articles/1?ref=x");
    assertThat(metadata.getString("language")).isEqualTo("en-GB");
    assertThat(metadata.getJsonObject("openGraph").getMap()).isEqualTo(Map.of(
        "title", "OG Title", "description", "OG description", "image", "https://cdn.example.com/a.png",
        "type", "article", "url", "https://example.com/articles/1"));
  }

  @Test
  @DisplayName("without a lang attribute the language comes from the Content-Language meta; absent values are null")
  void metadataFallbacks() throws Exception {
    JsonObject metadata = extract("<html><head><meta http-equiv=\"Content-Language\" content=\"de\"></head><body></body></html>",
        Format.METADATA).getJsonObject("metadata");
    assertThat(metadata.getString("language")).isEqualTo("de");
    assertThat(metadata.getValue("title")).isNull();
    assertThat(metadata.getValue("description")).isNull();
    assertThat(metadata.getValue("canonicalUrl")).isNull();
    assertThat(metadata.getJsonObject("openGraph")).isEmpty();
  }

  @Test
  @DisplayName("text keeps the paragraphs, separated by blank lines, and drops scripts, styles, menus and footers")
  void text() throws Exception {
    JsonObject out = extract(PAGE, Format.TEXT);
    assertThat(out.fieldNames()).containsExactlyInAnyOrder("title", "text");
    assertThat(out.getString("text")).isEqualTo("""
        Main Heading

        First paragraph with a guide.

        Second paragraph.
        Next line.""");
  }

  @Test
  @DisplayName("markdown renders the main content with a heading and an absolute link, without the menus")
  void markdown() throws Exception {
    String markdown = extract(PAGE, Format.MARKDOWN).getString("markdown");
    assertThat(markdown).startsWith("# Main Heading")
        .contains("[a guide](https://example.com/docs/guide)")
        .doesNotContain("NAV", "BANNER", "FOOTER", "ASIDE", "SCRIPT", "FORM", "NOSCRIPT");
  }

  @Test
  @DisplayName("markdown uses the whole body when there is no main and no single article")
  void markdownWithoutMain() throws Exception {
    String markdown = extract("<body><h2>Intro</h2><article><p>One</p></article><article><p>Two</p></article></body>",
        Format.MARKDOWN).getString("markdown");
    assertThat(markdown).contains("## Intro", "One", "Two");
  }

  @Test
  @DisplayName("markdown uses the outermost article when there is only one, comments nested in it included")
  void markdownOfSingleArticle() throws Exception {
    String markdown = extract("<body><p>Teaser</p><article><h1>Story</h1><article><p>A comment</p></article></article></body>",
        Format.MARKDOWN).getString("markdown");
    assertThat(markdown).isEqualTo("# Story\n\nA comment");
  }

  @Test
  @DisplayName("links are absolute http(s) URLs without fragments, each once with its first anchor text")
  void links() throws Exception {
    String html = """
        <a href="/docs/guide#part-2">Guide</a>
        <a href="HTTPS://EXAMPLE.com/docs/guide">Guide again</a>
        <a href="other.html">  Other
           page </a>
        <a href="//cdn.example.net/x">CDN</a>
        <a href="/a b">Spaced</a>
        <a href="#top">Top</a>
        <a href="javascript:void(0)">JS</a>
        <a href="mailto:someone@example.com">Mail</a>
        <a href="ftp://example.com/file">FTP</a>
        <a>No href</a>
        """;
    assertThat(extract(html, Format.LINKS).getJsonArray("links")).isEqualTo(new JsonArray(List.of(
        link("https://example.com/docs/guide", "Guide"),
        link("https://example.com/articles/other.html", "Other page"),
        link("https://cdn.example.net/x", "CDN"),
        link("https://example.com/a%20b", "Spaced"),
        link("https://example.com/articles/1", "Top"))));
  }

  @Test
  @DisplayName("links resolve against <base href> when the page has one")
  void linksAgainstBase() throws Exception {
    String html = "<head><base href=\"/static/v2/\"></head><body><a href=\"page.html\">P</a><a href=\"/root\">R</a></body>";
    assertThat(extract(html, Format.LINKS).getJsonArray("links")).isEqualTo(new JsonArray(List.of(
        link("https://example.com/static/v2/page.html", "P"), link("https://example.com/root", "R"))));
  }

  @Test
  @DisplayName("a windows-1252 page without a charset header is decoded through its meta tag")
  void windows1252ByMeta() throws Exception {
    String html = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\">"
        + "<title>Caf\u00e9 \u201cq\u201d</title></head><body><p>Cr\u00e8me br\u00fbl\u00e9e \u2013 \u20ac5</p></body></html>";
    JsonObject out = HtmlExtractor.extract("http://x/", "text/html", Buffer.buffer(html.getBytes(Charset.forName("windows-1252"))),
        EnumSet.of(Format.TEXT));
    assertThat(out.getString("title")).isEqualTo("Caf\u00e9 \u201cq\u201d");
    assertThat(out.getString("text")).isEqualTo("Cr\u00e8me br\u00fbl\u00e9e \u2013 \u20ac5");
  }

  @Test
  @DisplayName("a text/plain body is returned as text, in its charset; other formats give nothing for it")
  void plainText() throws Exception {
    Buffer latin1 = Buffer.buffer("caf\u00e9\n  as is".getBytes(Charset.forName("ISO-8859-1")));
    JsonObject out = HtmlExtractor.extract("http://x/a.txt", "text/plain; charset=ISO-8859-1", latin1,
        EnumSet.allOf(Format.class));
    assertThat(out).isEqualTo(new JsonObject().putNull("title").put("text", "caf\u00e9\n  as is"));
    assertThat(HtmlExtractor.extract("http://x/a.txt", "text/plain", Buffer.buffer("x"), EnumSet.of(Format.METADATA)))
        .isEqualTo(new JsonObject().putNull("title"));
    assertThat(HtmlExtractor.extract("http://x/a.json", "application/json", Buffer.buffer("{}"), EnumSet.of(Format.TEXT)))
        .isEqualTo(new JsonObject().putNull("title"));
  }

  @Test
  @DisplayName("text is capped at a million characters")
  void textCap() throws Exception {
    String html = "<p>" + "a".repeat(HtmlExtractor.MAX_TEXT + 10) + "</p>";
    assertThat(extract(html, Format.TEXT).getString("text")).hasSize(HtmlExtractor.MAX_TEXT);
  }

  @Test
  @DisplayName("at most ten thousand links are returned")
  void linksCap() throws Exception {
    StringBuilder html = new StringBuilder();
    for (int i = 0; i <= PageLinks.MAX_LINKS; i++) {
      html.append("<a href=\"/p").append(i).append("\">").append(i).append("</a>");
    }
    assertThat(extract(html.toString(), Format.LINKS).getJsonArray("links")).hasSize(PageLinks.MAX_LINKS);
  }

  @Test
  @DisplayName("markdown of a long page whose paragraphs are spread over many sections is complete")
  void markdownOfLongPage() throws Exception {
    StringBuilder html = new StringBuilder("<main>");
    for (int section = 0; section < 1000; section++) {
      html.append("<section><h2>S").append(section).append("</h2>").append("<p>para</p>".repeat(20)).append("</section>");
    }
    assertThat(extract(html.append("</main>").toString(), Format.MARKDOWN).getString("markdown"))
        .endsWith("## S999\n\n" + "para\n\n".repeat(19) + "para");
  }

  @Test
  @DisplayName("markdown stops early when one element has so many children that converting them all would take too long")
  void markdownWorkBudget() throws Exception {
    StringBuilder html = new StringBuilder();
    for (int i = 0; i < 20_000; i++) {
      html.append("<p>p").append(i).append("</p>");
    }
    String markdown = extract(html.toString(), Format.MARKDOWN).getString("markdown");
    assertThat(markdown).startsWith("p0\n\np1\n\n").contains("p9000").doesNotContain("p19999");
    assertThat(extract(html.toString(), Format.TEXT).getString("text")).endsWith("p19999");
  }

  private static JsonObject link(String url, String text) {
    return new JsonObject().put("url", url).put("text", text);
  }

  @Test
  @DisplayName("runs of ASCII whitespace and no-break spaces become one space; other characters stay; line ends are stripped")
  void whitespaceCollapses() {
    String html = "<p>a \t\n\u000B\f\r\u00A0b</p><p>\u00A0\u00A0x  y\u2003z <br>\u2003 <b>next</b> line\u2003</p>"
        + "<p> \u00A0 </p><div>cell</div><table><tr><td>one</td><td> two </td></tr></table>";
    assertThat(PlainText.of(org.jsoup.Jsoup.parse(html).body()))
        .isEqualTo("a b\n\nx y\u2003z\nnext line\n\ncell\n\none two");
    assertThat(PlainText.of(org.jsoup.Jsoup.parse("<p> \n </p>").body())).isEmpty();
  }
}
