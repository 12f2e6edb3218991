package io.fetchbus.jmh;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The JMH benchmarks' inputs, fixed files in src/jmh/resources/jmh so that one run compares with the next: a 14 KB
 * blog article (head metadata, navigation, 15 links of every kind) and a shop's robots.txt (32 rules for {@code *}).
 */
public final class Inputs {
  /** Where the article is served from: its relative links resolve against this. */
  public static final String ARTICLE_URL = "https://blog.example.org/2024/06/robots-at-scale.html";
  public static final String ROBOTS_URL = "https://shop.example.com/robots.txt";

  private Inputs() {}

  public static byte[] article() {
    return resource("article.html");
  }

  public static byte[] robotsTxt() {
    return resource("robots.txt");
  }

  private static byte[] resource(String name) {
    try (InputStream in = Inputs.class.getResourceAsStream("/jmh/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource jmh/" + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
