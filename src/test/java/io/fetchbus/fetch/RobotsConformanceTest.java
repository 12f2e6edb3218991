package io.fetchbus.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The robots.txt protocol cases of Google's parser test suite (github.com/google/robotstxt, {@code robots_test.cc},
 * the {@code ID_*} tests, which follow RFC 9309), ported to {@link RobotsRules}. Each row is one
 * {@code EXPECT_TRUE/EXPECT_FALSE(IsUserAgentAllowed(robotstxt, useragent, url))} of the upstream file and is named
 * {@code <upstream test>/<upstream variable or block>} so it can be traced back.
 *
 * <p>Not ported: {@code ID_VerifyValidUserAgentsToObey} (checks the matcher's user-agent validation API, which
 * crawler-commons does not have), {@code ID_NonStandardLineExample_Sitemap} (checks parse callbacks for sitemaps;
 * {@link RobotsRules} exposes no sitemaps), and the {@code GoogleOnly_*} tests (Google extensions outside RFC 9309:
 * empty URLs and user agents, user agents up to the first space, line length cut-off, documentation examples),
 * except {@code GoogleOnly_IndexHTMLisDirectory}, which crawler-commons implements as well.
 *
 * <p>{@code ID_UTF8ByteOrderMarkIsSkipped} and {@code ID_LinesNumbersAreCountedCorrectly} count the directives
 * the parser reports rather than asking for a verdict. They are ported as the verdict that follows from that count:
 * the line-ending files as they are (agent {@code bar} is under {@code Disallow: /} only if every line was parsed),
 * the BOM files with a {@code Disallow: /} line appended so that whether the lines were recognised is visible.
 *
 * <p>Where crawler-commons deliberately answers otherwise than Google, the row is in {@link #KNOWN_DIFFERENCES},
 * which asserts what crawler-commons does, so that a change of behaviour in either direction fails here.
 */
@DisplayName("robots.txt rules follow the RFC 9309 cases of Google's robotstxt test suite")
class RobotsConformanceTest {

  private static final String ROBOTS_URL = "http://foo.bar/robots.txt";
  /** The verdict of crawler-commons in {@link #KNOWN_DIFFERENCES}. */
  private static final boolean ALLOWED = true;

  /** One upstream expectation: may {@code agent} fetch {@code url} under {@code robots}? */
  record Case(String name, byte[] robots, String agent, String url, boolean allowed) {
    @Override
    public String toString() {
      return name + ": " + agent + (allowed ? " may fetch " : " may not fetch ") + url;
    }
  }

  /**
   * A case where crawler-commons deliberately differs from Google's parser: {@code google} is the upstream
   * expectation, {@code crawlerCommonsAllows} the verdict we get (and assert), {@code why} the reason.
   */
  record Difference(Case google, boolean crawlerCommonsAllows, String why) {
    @Override
    public String toString() {
      return google.name + ": " + google.agent + (crawlerCommonsAllows ? " may fetch " : " may not fetch ")
          + google.url + " (Google: " + (google.allowed ? "may" : "may not") + "; " + why + ")";
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The robots.txt files of the upstream tests, named as there.
  // ---------------------------------------------------------------------------------------------------------------

  // ID_LineSyntax_Line
  private static final String LINE_CORRECT = "user-agent: FooBot\n" + "disallow: /\n";
  private static final String LINE_INCORRECT = "foo: FooBot\n" + "bar: /\n";
  private static final String LINE_INCORRECT_ACCEPTED = "user-agent FooBot\n" + "disallow /\n";

  // ID_LineSyntax_Groups
  private static final String GROUPS = "allow: /foo/bar/\n"
      + "\n"
      + "user-agent: FooBot\n"
      + "disallow: /\n"
      + "allow: /x/\n"
      + "user-agent: BarBot\n"
      + "disallow: /\n"
      + "allow: /y/\n"
      + "\n"
      + "\n"
      + "allow: /w/\n"
      + "user-agent: BazBot\n"
      + "\n"
      + "user-agent: FooBot\n"
      + "allow: /z/\n"
      + "disallow: /\n";

  // ID_LineSyntax_Groups_OtherRules
  private static final String OTHER_RULES_SITEMAP = "User-agent: BarBot\n"
      + "Sitemap: https://foo.bar/sitemap\n"
      + "User-agent: *\n"
      + "Disallow: /\n";
  private static final String OTHER_RULES_UNKNOWN = "User-agent: FooBot\n"
      + "Invalid-Unknown-Line: unknown\n"
      + "User-agent: *\n"
      + "Disallow: /\n";

  // ID_REPLineNamesCaseInsensitive
  private static final String NAMES_UPPER = "USER-AGENT: FooBot\n" + "ALLOW: /x/\n" + "DISALLOW: /\n";
  private static final String NAMES_LOWER = "user-agent: FooBot\n" + "allow: /x/\n" + "disallow: /\n";
  private static final String NAMES_CAMEL = "uSeR-aGeNt: FooBot\n" + "AlLoW: /x/\n" + "dIsAlLoW: /\n";

  // ID_UserAgentValueCaseInsensitive
  private static final String AGENT_UPPER = "User-Agent: FOO BAR\n" + "Allow: /x/\n" + "Disallow: /\n";
  private static final String AGENT_LOWER = "User-Agent: foo bar\n" + "Allow: /x/\n" + "Disallow: /\n";
  private static final String AGENT_CAMEL = "User-Agent: FoO bAr\n" + "Allow: /x/\n" + "Disallow: /\n";

  // ID_GlobalGroups_Secondary
  private static final String GLOBAL_EMPTY = "";
  private static final String GLOBAL_GLOBAL = "user-agent: *\n"
      + "allow: /\n"
      + "user-agent: FooBot\n"
      + "disallow: /\n";
  private static final String GLOBAL_ONLY_SPECIFIC = "user-agent: FooBot\n"
      + "allow: /\n"
      + "user-agent: BarBot\n"
      + "disallow: /\n"
      + "user-agent: BazBot\n"
      + "disallow: /\n";

  // ID_AllowDisallow_Value_CaseSensitive
  private static final String VALUE_LOWERCASE_URL = "user-agent: FooBot\n" + "disallow: /x/\n";
  private static final String VALUE_UPPERCASE_URL = "user-agent: FooBot\n" + "disallow: /X/\n";

  // ID_LongestMatch, blocks 1 to 9 in upstream order
  private static final String LONGEST_1 = "user-agent: FooBot\n" + "disallow: /x/page.html\n" + "allow: /x/\n";
  private static final String LONGEST_2 = "user-agent: FooBot\n" + "allow: /x/page.html\n" + "disallow: /x/\n";
  private static final String LONGEST_3 = "user-agent: FooBot\n" + "disallow: \n" + "allow: \n";
  private static final String LONGEST_4 = "user-agent: FooBot\n" + "disallow: /\n" + "allow: /\n";
  private static final String LONGEST_5 = "user-agent: FooBot\n" + "disallow: /x\n" + "allow: /x/\n";
  private static final String LONGEST_6 = "user-agent: FooBot\n" + "disallow: /x/page.html\n" + "allow: /x/page.html\n";
  private static final String LONGEST_7 = "user-agent: FooBot\n" + "allow: /page\n" + "disallow: /*.html\n";
  private static final String LONGEST_8 = "user-agent: FooBot\n" + "allow: /x/page.\n" + "disallow: /*.html\n";
  private static final String LONGEST_9 = "User-agent: *\n"
      + "Disallow: /x/\n"
      + "User-agent: FooBot\n"
      + "Disallow: /y/\n";

  // ID_Encoding, blocks 1 to 4
  private static final String ENCODING_QUERY = "User-agent: FooBot\n"
      + "Disallow: /\n"
      + "Allow: /foo/bar?qux=taz&baz=http://foo.bar?tar&par\n";
  private static final String ENCODING_3BYTE = "User-agent: FooBot\n" + "Disallow: /\n" + "Allow: /foo/bar/ツ\n";
  private static final String ENCODING_3BYTE_PERCENT = "User-agent: FooBot\n"
      + "Disallow: /\n"
      + "Allow: /foo/bar/%E3%83%84\n";
  private static final String ENCODING_UNRESERVED_PERCENT = "User-agent: FooBot\n"
      + "Disallow: /\n"
      + "Allow: /foo/bar/%62%61%7A\n";

  // ID_SpecialCharacters, blocks 1 to 3
  private static final String SPECIAL_STAR = "User-agent: FooBot\n"
      + "Disallow: /foo/bar/quz\n"
      + "Allow: /foo/*/qux\n";
  private static final String SPECIAL_DOLLAR = "User-agent: FooBot\n"
      + "Disallow: /foo/bar$\n"
      + "Allow: /foo/bar/qux\n";
  private static final String SPECIAL_HASH = "User-agent: FooBot\n"
      + "# Disallow: /\n"
      + "Disallow: /foo/quz#qux\n"
      + "Allow: /\n";

  // GoogleOnly_IndexHTMLisDirectory
  private static final String INDEX_HTML = "User-Agent: *\n"
      + "Allow: /allowed-slash/index.html\n"
      + "Disallow: /\n";

  // ID_LinesNumbersAreCountedCorrectly
  private static final String UNIX_FILE = "User-Agent: foo\n"
      + "Allow: /some/path\n"
      + "User-Agent: bar\n"
      + "\n"
      + "\n"
      + "Disallow: /\n";
  private static final String DOS_FILE = "User-Agent: foo\r\n"
      + "Allow: /some/path\r\n"
      + "User-Agent: bar\r\n"
      + "\r\n"
      + "\r\n"
      + "Disallow: /\r\n";
  private static final String MAC_FILE = "User-Agent: foo\r"
      + "Allow: /some/path\r"
      + "User-Agent: bar\r"
      + "\r"
      + "\r"
      + "Disallow: /\r";
  private static final String NO_FINAL_NEWLINE = "User-Agent: foo\n"
      + "Allow: /some/path\n"
      + "User-Agent: bar\n"
      + "\n"
      + "\n"
      + "Disallow: /";
  private static final String MIXED_FILE = "User-Agent: foo\n"
      + "Allow: /some/path\r\n"
      + "User-Agent: bar\n"
      + "\r\n"
      + "\n"
      + "Disallow: /";

  // ID_UTF8ByteOrderMarkIsSkipped, each file with "Disallow: /" appended (see the class comment)
  private static final String BOM_RULES = "User-Agent: foo\n" + "Allow: /AnyValue\n" + "Disallow: /\n";
  private static final byte[] UTF8_FILE_FULL_BOM = concat(bytes(0xEF, 0xBB, 0xBF), utf8(BOM_RULES));
  private static final byte[] UTF8_FILE_PARTIAL_2_BOM = concat(bytes(0xEF, 0xBB), utf8(BOM_RULES));
  private static final byte[] UTF8_FILE_PARTIAL_1_BOM = concat(bytes(0xEF), utf8(BOM_RULES));
  private static final byte[] UTF8_FILE_BROKEN_BOM = concat(bytes(0xEF, 0x11, 0xBF), utf8(BOM_RULES));
  private static final byte[] UTF8_BOM_IN_MIDDLE_OF_FILE = concat(utf8("User-Agent: foo\n"), bytes(0xEF, 0xBB, 0xBF),
      utf8("Allow: /AnyValue\n" + "Disallow: /\n"));

  // ---------------------------------------------------------------------------------------------------------------
  // Rows where crawler-commons gives Google's answer.
  // ---------------------------------------------------------------------------------------------------------------

  static final List<Case> CONFORMING = List.of(
      // Rules are colon separated name-value pairs; unknown names are ignored.
      disallowed("ID_LineSyntax_Line/robotstxt_correct", LINE_CORRECT, "FooBot", "http://foo.bar/x/y"),
      allowed("ID_LineSyntax_Line/robotstxt_incorrect", LINE_INCORRECT, "FooBot", "http://foo.bar/x/y"),
      disallowed("ID_LineSyntax_Line/robotstxt_incorrect_accepted", LINE_INCORRECT_ACCEPTED, "FooBot",
          "http://foo.bar/x/y"),

      // Groups end at the next user-agent line; groups for the same agent are merged; rules outside groups ignored.
      allowed("ID_LineSyntax_Groups/url_x", GROUPS, "FooBot", "http://foo.bar/x/b"),
      allowed("ID_LineSyntax_Groups/url_z", GROUPS, "FooBot", "http://foo.bar/z/d"),
      disallowed("ID_LineSyntax_Groups/url_y", GROUPS, "FooBot", "http://foo.bar/y/c"),
      allowed("ID_LineSyntax_Groups/url_y", GROUPS, "BarBot", "http://foo.bar/y/c"),
      allowed("ID_LineSyntax_Groups/url_w", GROUPS, "BarBot", "http://foo.bar/w/a"),
      disallowed("ID_LineSyntax_Groups/url_z", GROUPS, "BarBot", "http://foo.bar/z/d"),
      allowed("ID_LineSyntax_Groups/url_z", GROUPS, "BazBot", "http://foo.bar/z/d"),
      disallowed("ID_LineSyntax_Groups/url_foo", GROUPS, "FooBot", "http://foo.bar/foo/bar/"),
      disallowed("ID_LineSyntax_Groups/url_foo", GROUPS, "BarBot", "http://foo.bar/foo/bar/"),
      disallowed("ID_LineSyntax_Groups/url_foo", GROUPS, "BazBot", "http://foo.bar/foo/bar/"),

      // Lines other than user-agent, allow and disallow do not close a group.
      disallowed("ID_LineSyntax_Groups_OtherRules/sitemap", OTHER_RULES_SITEMAP, "FooBot", "http://foo.bar/"),
      disallowed("ID_LineSyntax_Groups_OtherRules/sitemap", OTHER_RULES_SITEMAP, "BarBot", "http://foo.bar/"),
      disallowed("ID_LineSyntax_Groups_OtherRules/unknown", OTHER_RULES_UNKNOWN, "FooBot", "http://foo.bar/"),
      disallowed("ID_LineSyntax_Groups_OtherRules/unknown", OTHER_RULES_UNKNOWN, "BarBot", "http://foo.bar/"),

      // Line names are case insensitive.
      allowed("ID_REPLineNamesCaseInsensitive/robotstxt_upper", NAMES_UPPER, "FooBot", "http://foo.bar/x/y"),
      allowed("ID_REPLineNamesCaseInsensitive/robotstxt_lower", NAMES_LOWER, "FooBot", "http://foo.bar/x/y"),
      allowed("ID_REPLineNamesCaseInsensitive/robotstxt_camel", NAMES_CAMEL, "FooBot", "http://foo.bar/x/y"),
      disallowed("ID_REPLineNamesCaseInsensitive/robotstxt_upper", NAMES_UPPER, "FooBot", "http://foo.bar/a/b"),
      disallowed("ID_REPLineNamesCaseInsensitive/robotstxt_lower", NAMES_LOWER, "FooBot", "http://foo.bar/a/b"),
      disallowed("ID_REPLineNamesCaseInsensitive/robotstxt_camel", NAMES_CAMEL, "FooBot", "http://foo.bar/a/b"),

      // User-agent values are case insensitive.
      allowed("ID_UserAgentValueCaseInsensitive/robotstxt_upper", AGENT_UPPER, "Foo", "http://foo.bar/x/y"),
      allowed("ID_UserAgentValueCaseInsensitive/robotstxt_lower", AGENT_LOWER, "Foo", "http://foo.bar/x/y"),
      allowed("ID_UserAgentValueCaseInsensitive/robotstxt_camel", AGENT_CAMEL, "Foo", "http://foo.bar/x/y"),
      disallowed("ID_UserAgentValueCaseInsensitive/robotstxt_upper", AGENT_UPPER, "Foo", "http://foo.bar/a/b"),
      disallowed("ID_UserAgentValueCaseInsensitive/robotstxt_lower", AGENT_LOWER, "Foo", "http://foo.bar/a/b"),
      disallowed("ID_UserAgentValueCaseInsensitive/robotstxt_camel", AGENT_CAMEL, "Foo", "http://foo.bar/a/b"),
      allowed("ID_UserAgentValueCaseInsensitive/robotstxt_upper", AGENT_UPPER, "foo", "http://foo.bar/x/y"),
      allowed("ID_UserAgentValueCaseInsensitive/robotstxt_lower", AGENT_LOWER, "foo", "http://foo.bar/x/y"),
      allowed("ID_UserAgentValueCaseInsensitive/robotstxt_camel", AGENT_CAMEL, "foo", "http://foo.bar/x/y"),
      disallowed("ID_UserAgentValueCaseInsensitive/robotstxt_upper", AGENT_UPPER, "foo", "http://foo.bar/a/b"),
      disallowed("ID_UserAgentValueCaseInsensitive/robotstxt_lower", AGENT_LOWER, "foo", "http://foo.bar/a/b"),
      disallowed("ID_UserAgentValueCaseInsensitive/robotstxt_camel", AGENT_CAMEL, "foo", "http://foo.bar/a/b"),

      // Without a matching group the "*" group applies; without either, nothing is disallowed.
      allowed("ID_GlobalGroups_Secondary/robotstxt_empty", GLOBAL_EMPTY, "FooBot", "http://foo.bar/x/y"),
      disallowed("ID_GlobalGroups_Secondary/robotstxt_global", GLOBAL_GLOBAL, "FooBot", "http://foo.bar/x/y"),
      allowed("ID_GlobalGroups_Secondary/robotstxt_global", GLOBAL_GLOBAL, "BarBot", "http://foo.bar/x/y"),
      allowed("ID_GlobalGroups_Secondary/robotstxt_only_specific", GLOBAL_ONLY_SPECIFIC, "QuxBot",
          "http://foo.bar/x/y"),

      // Paths are matched case sensitively.
      disallowed("ID_AllowDisallow_Value_CaseSensitive/robotstxt_lowercase_url", VALUE_LOWERCASE_URL, "FooBot",
          "http://foo.bar/x/y"),
      allowed("ID_AllowDisallow_Value_CaseSensitive/robotstxt_uppercase_url", VALUE_UPPERCASE_URL, "FooBot",
          "http://foo.bar/x/y"),

      // The longest match wins; on a tie between allow and disallow, allow wins.
      disallowed("ID_LongestMatch/1 disallow page beats allow dir", LONGEST_1, "FooBot", "http://foo.bar/x/page.html"),
      allowed("ID_LongestMatch/2 allow page beats disallow dir", LONGEST_2, "FooBot", "http://foo.bar/x/page.html"),
      disallowed("ID_LongestMatch/2 allow page beats disallow dir", LONGEST_2, "FooBot", "http://foo.bar/x/"),
      allowed("ID_LongestMatch/3 empty allow ties empty disallow", LONGEST_3, "FooBot", "http://foo.bar/x/page.html"),
      allowed("ID_LongestMatch/4 allow / ties disallow /", LONGEST_4, "FooBot", "http://foo.bar/x/page.html"),
      disallowed("ID_LongestMatch/5 url_a", LONGEST_5, "FooBot", "http://foo.bar/x"),
      allowed("ID_LongestMatch/5 url_b", LONGEST_5, "FooBot", "http://foo.bar/x/"),
      allowed("ID_LongestMatch/6 equal allow and disallow", LONGEST_6, "FooBot", "http://foo.bar/x/page.html"),
      disallowed("ID_LongestMatch/7 disallow /*.html longer", LONGEST_7, "FooBot", "http://foo.bar/page.html"),
      allowed("ID_LongestMatch/7 disallow /*.html longer", LONGEST_7, "FooBot", "http://foo.bar/page"),
      allowed("ID_LongestMatch/8 allow /x/page. longer", LONGEST_8, "FooBot", "http://foo.bar/x/page.html"),
      disallowed("ID_LongestMatch/8 allow /x/page. longer", LONGEST_8, "FooBot", "http://foo.bar/x/y.html"),
      allowed("ID_LongestMatch/9 specific group replaces *", LONGEST_9, "FooBot", "http://foo.bar/x/page"),
      disallowed("ID_LongestMatch/9 specific group replaces *", LONGEST_9, "FooBot", "http://foo.bar/y/page"),

      // Percent-encoding of paths.
      allowed("ID_Encoding/1 query stays unencoded", ENCODING_QUERY, "FooBot",
          "http://foo.bar/foo/bar?qux=taz&baz=http://foo.bar?tar&par"),
      allowed("ID_Encoding/2 3 byte character", ENCODING_3BYTE, "FooBot", "http://foo.bar/foo/bar/%E3%83%84"),
      allowed("ID_Encoding/3 percent encoded 3 byte character", ENCODING_3BYTE_PERCENT, "FooBot",
          "http://foo.bar/foo/bar/%E3%83%84"),
      allowed("ID_Encoding/4 percent encoded unreserved US-ASCII", ENCODING_UNRESERVED_PERCENT, "FooBot",
          "http://foo.bar/foo/bar/%62%61%7A"),

      // Special characters: '*' matches any characters, '$' ends the pattern, '#' starts a comment.
      disallowed("ID_SpecialCharacters/1 *", SPECIAL_STAR, "FooBot", "http://foo.bar/foo/bar/quz"),
      allowed("ID_SpecialCharacters/1 *", SPECIAL_STAR, "FooBot", "http://foo.bar/foo/quz"),
      allowed("ID_SpecialCharacters/1 *", SPECIAL_STAR, "FooBot", "http://foo.bar/foo//quz"),
      allowed("ID_SpecialCharacters/1 *", SPECIAL_STAR, "FooBot", "http://foo.bar/foo/bax/quz"),
      disallowed("ID_SpecialCharacters/2 $", SPECIAL_DOLLAR, "FooBot", "http://foo.bar/foo/bar"),
      allowed("ID_SpecialCharacters/2 $", SPECIAL_DOLLAR, "FooBot", "http://foo.bar/foo/bar/qux"),
      allowed("ID_SpecialCharacters/2 $", SPECIAL_DOLLAR, "FooBot", "http://foo.bar/foo/bar/"),
      allowed("ID_SpecialCharacters/2 $", SPECIAL_DOLLAR, "FooBot", "http://foo.bar/foo/bar/baz"),
      allowed("ID_SpecialCharacters/3 #", SPECIAL_HASH, "FooBot", "http://foo.bar/foo/bar"),
      disallowed("ID_SpecialCharacters/3 #", SPECIAL_HASH, "FooBot", "http://foo.bar/foo/quz"),

      // Google-only extension: a pattern ending in index.html also matches its directory.
      allowed("GoogleOnly_IndexHTMLisDirectory", INDEX_HTML, "foobot", "http://foo.com/allowed-slash/"),
      disallowed("GoogleOnly_IndexHTMLisDirectory", INDEX_HTML, "foobot", "http://foo.com/allowed-slash/index.htm"),
      allowed("GoogleOnly_IndexHTMLisDirectory", INDEX_HTML, "foobot", "http://foo.com/allowed-slash/index.html"),
      disallowed("GoogleOnly_IndexHTMLisDirectory", INDEX_HTML, "foobot", "http://foo.com/anyother-url"),

      // LF, CRLF, CR and mixed line endings all end a line (all four directives are parsed).
      disallowed("ID_LinesNumbersAreCountedCorrectly/kUnixFile", UNIX_FILE, "bar", "http://foo.bar/x/y"),
      disallowed("ID_LinesNumbersAreCountedCorrectly/kDosFile", DOS_FILE, "bar", "http://foo.bar/x/y"),
      disallowed("ID_LinesNumbersAreCountedCorrectly/kMacFile", MAC_FILE, "bar", "http://foo.bar/x/y"),
      disallowed("ID_LinesNumbersAreCountedCorrectly/kNoFinalNewline", NO_FINAL_NEWLINE, "bar", "http://foo.bar/x/y"),
      disallowed("ID_LinesNumbersAreCountedCorrectly/kMixedFile", MIXED_FILE, "bar", "http://foo.bar/x/y"),

      // A UTF-8 byte order mark (also a partial one) at the start is skipped; elsewhere it spoils its line.
      allowed("ID_UTF8ByteOrderMarkIsSkipped/kUtf8FileFullBOM", UTF8_FILE_FULL_BOM, "foo",
          "http://foo.bar/AnyValue"),
      disallowed("ID_UTF8ByteOrderMarkIsSkipped/kUtf8FileFullBOM", UTF8_FILE_FULL_BOM, "foo", "http://foo.bar/x/y"),
      allowed("ID_UTF8ByteOrderMarkIsSkipped/kUtf8FilePartial2BOM", UTF8_FILE_PARTIAL_2_BOM, "foo",
          "http://foo.bar/AnyValue"),
      allowed("ID_UTF8ByteOrderMarkIsSkipped/kUtf8FilePartial1BOM", UTF8_FILE_PARTIAL_1_BOM, "foo",
          "http://foo.bar/AnyValue"),
      allowed("ID_UTF8ByteOrderMarkIsSkipped/kUtf8FileBrokenBOM", UTF8_FILE_BROKEN_BOM, "foo", "http://foo.bar/x/y"),
      disallowed("ID_UTF8ByteOrderMarkIsSkipped/kUtf8BOMSomewhereInMiddleOfFile", UTF8_BOM_IN_MIDDLE_OF_FILE, "foo",
          "http://foo.bar/AnyValue"));

  // ---------------------------------------------------------------------------------------------------------------
  // Rows where crawler-commons deliberately answers otherwise than Google.
  // ---------------------------------------------------------------------------------------------------------------

  static final List<Difference> KNOWN_DIFFERENCES = List.of(
      // crawler-commons percent-encodes non-ASCII characters of the URL before matching (RFC 9309 section 2.2.2);
      // Google leaves encoding the URL to the caller, so a raw "ツ" does not match the encoded rule there.
      differs(disallowed("ID_Encoding/2 3 byte character", ENCODING_3BYTE, "FooBot", "http://foo.bar/foo/bar/ツ"),
          ALLOWED, "crawler-commons percent-encodes the URL's non-ASCII characters before matching"),
      differs(disallowed("ID_Encoding/3 percent encoded 3 byte character", ENCODING_3BYTE_PERCENT, "FooBot",
          "http://foo.bar/foo/bar/ツ"),
          ALLOWED, "crawler-commons percent-encodes the URL's non-ASCII characters before matching"),
      // crawler-commons decodes percent-encoded unreserved characters in rules and URLs alike (%62%61%7A is "baz");
      // Google compares the octets as written (its test itself says this should not be relied on).
      differs(disallowed("ID_Encoding/4 percent encoded unreserved US-ASCII", ENCODING_UNRESERVED_PERCENT, "FooBot",
          "http://foo.bar/foo/bar/baz"), ALLOWED,
          "crawler-commons decodes percent-encoded unreserved characters"),
      // crawler-commons strips only a complete UTF-8 BOM (EF BB BF); the bytes of a partial BOM stay in front of
      // "User-Agent", so that line is not recognised and the rules after it belong to no group.
      differs(disallowed("ID_UTF8ByteOrderMarkIsSkipped/kUtf8FilePartial2BOM", UTF8_FILE_PARTIAL_2_BOM, "foo",
          "http://foo.bar/x/y"), ALLOWED,
          "crawler-commons skips only a complete UTF-8 BOM, not a partial one"),
      differs(disallowed("ID_UTF8ByteOrderMarkIsSkipped/kUtf8FilePartial1BOM", UTF8_FILE_PARTIAL_1_BOM, "foo",
          "http://foo.bar/x/y"), ALLOWED,
          "crawler-commons skips only a complete UTF-8 BOM, not a partial one"));

  @ParameterizedTest(name = "{0}")
  @MethodSource("conforming")
  @DisplayName("gives the same verdict as Google's parser")
  void conforming(Case c) {
    assertThat(isAllowed(c)).as(c.toString()).isEqualTo(c.allowed());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("knownDifferences")
  @DisplayName("keeps crawler-commons' own verdict where it knowingly differs from Google's parser")
  void knownDifference(Difference d) {
    assertThat(d.crawlerCommonsAllows()).as("a known difference differs from Google")
        .isNotEqualTo(d.google().allowed());
    assertThat(isAllowed(d.google())).as(d.toString()).isEqualTo(d.crawlerCommonsAllows());
  }

  static Stream<Case> conforming() {
    return CONFORMING.stream();
  }

  static Stream<Difference> knownDifferences() {
    return KNOWN_DIFFERENCES.stream();
  }

  private static boolean isAllowed(Case c) {
    return RobotsRules.parse(ROBOTS_URL, c.robots(), "text/plain", c.agent()).isAllowed(c.url());
  }

  private static Case allowed(String name, String robots, String agent, String url) {
    return allowed(name, utf8(robots), agent, url);
  }

  private static Case allowed(String name, byte[] robots, String agent, String url) {
    return new Case(name, robots, agent, url, true);
  }

  private static Case disallowed(String name, String robots, String agent, String url) {
    return disallowed(name, utf8(robots), agent, url);
  }

  private static Case disallowed(String name, byte[] robots, String agent, String url) {
    return new Case(name, robots, agent, url, false);
  }

  private static Difference differs(Case google, boolean crawlerCommonsAllows, String why) {
    return new Difference(google, crawlerCommonsAllows, why);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] bytes(int... octets) {
    byte[] b = new byte[octets.length];
    for (int i = 0; i < octets.length; i++) {
      b[i] = (byte) octets[i];
    }
    return b;
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
