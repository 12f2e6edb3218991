package io.fetchbus.extract;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.Charset;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class HtmlExtractorTest {

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
}
