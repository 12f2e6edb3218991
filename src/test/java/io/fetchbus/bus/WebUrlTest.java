package io.fetchbus.bus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.eventbus.ReplyException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WebUrlTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = ' ', value = {
      "HTTP://Example.COM/a http://example.com/a",
      "http://example.com http://example.com/",
      "http://example.com:80/a http://example.com/a",
      "https://example.com:443/a https://example.com/a",
      "https://example.com:8443/a https://example.com:8443/a",
      "http://example.com/a#frag http://example.com/a",
      "http://example.com/%7euser/%2f http://example.com/~user/%2F",
      "http://example.com/?q=%6a%3d http://example.com/?q=j%3D",
      "http://example.com/caf\u00e9 http://example.com/caf%C3%A9",
      "http://example.com/a|b http://example.com/a%7Cb",
      "http://b\u00fccher.example/ http://xn--bcher-kva.example/",
      "http://[::1]:8080/x http://[::1]:8080/x",
      "http://example.com/a/./b/../c http://example.com/a/c",
      "http://example.com/a/b/.. http://example.com/a/",
      "http://example.com/../../x http://example.com/x",
      "http://example.com/a//b http://example.com/a//b",
      "http://example.com/?b=2&a=1 http://example.com/?b=2&a=1"})
  @DisplayName("the canonical key lower-cases scheme and host, drops default ports and fragments, normalises escapes and dot segments")
  void canonicalKey(String url, String key) {
    assertThat(WebUrl.parse("url", url).key()).isEqualTo(key);
  }

  @Test
  @DisplayName("a relative redirect resolves against the URL it came from")
  void resolvesRedirects() {
    WebUrl base = WebUrl.parse("url", "http://example.com/a/b?x=1");
    assertThat(base.resolve("Location", "../c").toString()).isEqualTo("http://example.com/c");
    assertThat(base.resolve("Location", "//other.example/d").host()).isEqualTo("other.example");
    assertThatThrownBy(() -> base.resolve("Location", "mailto:someone@example.com"))
        .isInstanceOf(ReplyException.class).hasMessageStartingWith("Location: must use http or https");
  }

  @Test
  @DisplayName("validation failures are 400 ReplyExceptions that name the field")
  void invalidIs400() {
    assertThatThrownBy(() -> WebUrl.parse("seed", "file:///etc/passwd"))
        .isInstanceOfSatisfying(ReplyException.class, e -> assertThat(e.failureCode()).isEqualTo(400))
        .hasMessageStartingWith("seed: must use http or https");
  }

  @Test
  @DisplayName("a client's URL sent again is the same parse; a refused one is refused again, naming the new field")
  void parsedOnce() {
    WebUrl first = WebUrl.parseRecent("url", "HTTP://Hot.Example:80/p?q=1");
    assertThat(WebUrl.parseRecent("seed", "HTTP://Hot.Example:80/p?q=1")).isSameAs(first);
    assertThat(first.key()).isEqualTo("http://hot.example/p?q=1");
    assertThat(WebUrl.parse("url", "HTTP://Hot.Example:80/p?q=1")).isEqualTo(first).isNotSameAs(first);
    assertThatThrownBy(() -> WebUrl.parseRecent("url", "ftp://hot.example/")).hasMessageStartingWith("url: must use http");
    assertThatThrownBy(() -> WebUrl.parseRecent("seed", "ftp://hot.example/")).hasMessageStartingWith("seed: must use http");
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = ' ', value = {
      "HTTP://Example.COM/a?token=secret http://example.com:80",
      "https://example.com/ https://example.com:443",
      "http://example.com:80/ http://example.com:80",
      "https://example.com:8443/x https://example.com:8443",
      "https://example.com./ https://example.com:443",
      "http://[2001:DB8::1]/ http://[2001:db8::1]:80",
      "http://b\u00fccher.example/ http://xn--bcher-kva.example:80"})
  @DisplayName("an origin is the lower-case scheme and host, no trailing dot, IPv6 bracketed, and always the effective port")
  void originRule(String url, String origin) {
    assertThat(WebUrl.parse("url", url).origin()).isEqualTo(origin);
  }

  @ParameterizedTest(name = "{0} -> {1} {2}")
  @CsvSource(delimiter = ' ', value = {
      "http://example.com/a example.com 80",
      "https://example.com/a example.com 443",
      "http://example.com:80/a example.com:80 80",
      "https://example.com:8443/a example.com:8443 8443",
      "http://[::1]:8080/x [::1]:8080 8080",
      "https://[::1]/x [::1] 443"})
  @DisplayName("the Host header names the port only when the URL does; the port connected to is the effective one")
  void hostAndPortRule(String url, String hostAndPort, int port) {
    WebUrl parsed = WebUrl.parse("url", url);
    assertThat(parsed.hostAndPort()).isEqualTo(hostAndPort);
    assertThat(parsed.port()).isEqualTo(port);
  }
}
