package io.fetchbus.extract;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The page's base, parsed once, resolves every reference exactly as jsoup's absUrl does. */
class LinkResolutionTest {
  private static final List<String> REFERENCES = List.of("", " ", "#top", "?q=1", "?", "./x", "../x", "../../../../x",
      "/abs", "//other.example/p?q", "x/y/../z", "/a/./b/../c", "sp ace.html", " lead and trail ", "\n/ctl\t/x\r",
      "http://Example.COM:80/P", "HTTPS://example.com/", "https://[::1]:8443/v6", "mailto:a@example.com",
      "javascript:void(0)", "tel:+123", "data:text/plain,hi", "ftp://example.com/f", "http://[bad", "http:relative",
      "file.html;params?q#f", "%zz", "/é/ü?x=ß", "http://user:pass@example.com/", "\\\\backslash\\path");
  private static final List<String> BASES = List.of("http://example.com/dir/page.html?old=1#frag",
      "https://example.com", "https://example.com/dir/", "http://[::1]:8080/a/b");

  @Test
  @DisplayName("every kind of reference, against several bases and a <base href>, resolves as absUrl resolves it")
  void sameAsAbsUrl() {
    for (String base : BASES) {
      for (String withBaseTag : List.of("", "<base href=\"/other/base/\">", "<base href=\"https://cdn.example/x/\">")) {
        StringBuilder html = new StringBuilder("<html><head>" + withBaseTag + "</head><body>");
        for (String ref : REFERENCES) {
          html.append("<a href=\"").append(ref.replace("\"", "&quot;")).append("\">l</a>");
        }
        Document page = Jsoup.parse(html.toString(), base);
        assertSame(page);
      }
    }
  }

  @Test
  @DisplayName("the links of a real article page resolve as absUrl resolves them, and a page without a base URL too")
  void articleAndNoBase() throws IOException {
    String html;
    try (InputStream in = getClass().getResourceAsStream("/jmh/article.html")) {
      html = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Document page = Jsoup.parse(html, "https://example.org/blog/2024/post.html");
    assertThat(page.select("a[href]")).hasSizeGreaterThan(10);
    assertSame(page);
    assertSame(Jsoup.parse(html));  // no base URL: only absolute references resolve
  }

  private static void assertSame(Document page) {
    PageLinks.Base base = new PageLinks.Base(page.baseUri());
    for (Element a : page.select("a[href]")) {
      assertThat(base.absolute(a.attr("href"))).as("href '%s' against '%s'", a.attr("href"), page.baseUri())
          .isEqualTo(PageLinks.absolute(a, "href"));
    }
  }
}
