package io.fetchbus.fetch;

import crawlercommons.robots.BaseRobotRules;
import crawlercommons.robots.SimpleRobotRules;
import crawlercommons.robots.SimpleRobotRules.RobotRulesMode;
import crawlercommons.robots.SimpleRobotRulesParser;
import io.vertx.core.eventbus.ReplyException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The robots.txt rules (RFC 9309) of one origin for our product token, parsed by crawler-commons. The
 * outcomes of fetching robots.txt follow the RFC: 2xx parses the body, 4xx allows everything, and a 5xx or
 * an unreachable server disallows everything.
 */
final class RobotsRules {
  /** RFC 9309 section 2.5: a crawler must parse at least 500 KiB; anything after 512 KiB is ignored. */
  static final int MAX_BYTES = 512 * 1024;

  private final BaseRobotRules rules;
  private final boolean reachable;
  private final ReplyException networkFailure;
  private final boolean transientFailure;

  private RobotsRules(BaseRobotRules rules, boolean reachable, ReplyException networkFailure) {
    this(rules, reachable, networkFailure, false);
  }

  private RobotsRules(BaseRobotRules rules, boolean reachable, ReplyException networkFailure, boolean transientFailure) {
    this.rules = rules;
    this.reachable = reachable;
    this.networkFailure = networkFailure;
    this.transientFailure = transientFailure;
  }

  /**
   * robots.txt could not be fetched for a reason of ours (our queues were full, our deadline passed while
   * waiting): the fetch that asked fails with that reason, and nothing is remembered about the origin.
   */
  static RobotsRules notFetched(ReplyException ours) {
    return new RobotsRules(new SimpleRobotRules(RobotRulesMode.ALLOW_NONE), false, ours, true);
  }

  /** True for {@link #notFetched}: not to be cached. */
  boolean transientFailure() {
    return transientFailure;
  }

  /** Rules from a robots.txt body, for {@code agentToken} (e.g. {@code fetchbus}) or else the {@code *} group. */
  static RobotsRules parse(String robotsUrl, byte[] body, String contentType, String agentToken) {
    byte[] content = body.length > MAX_BYTES ? Arrays.copyOf(body, MAX_BYTES) : body;
    SimpleRobotRulesParser parser = new SimpleRobotRulesParser();
    return new RobotsRules(parser.parseContent(robotsUrl, content, contentType == null ? "text/plain" : contentType,
        List.of(agentToken.toLowerCase(Locale.ROOT))), true, null);
  }

  /** robots.txt is unavailable (4xx): everything is allowed. */
  static RobotsRules allowAll() {
    return new RobotsRules(new SimpleRobotRules(RobotRulesMode.ALLOW_ALL), true, null);
  }

  /** robots.txt is unreachable (5xx, timeout, connection or DNS failure): everything is disallowed, for a while. */
  static RobotsRules unreachable() {
    return new RobotsRules(new SimpleRobotRules(RobotRulesMode.ALLOW_NONE), false, null);
  }

  /**
   * The server could not be reached at all (DNS, connect, timeout): everything is disallowed, and the fetch that
   * asked reports that network failure, which says more than "disallowed" and is equally final.
   */
  static RobotsRules unreachable(ReplyException networkFailure) {
    return new RobotsRules(new SimpleRobotRules(RobotRulesMode.ALLOW_NONE), false, networkFailure);
  }

  /** The network failure that made robots.txt unreachable, or null. */
  ReplyException networkFailure() {
    return networkFailure;
  }

  /** False when the rules stand for an unreachable robots.txt, which is cached for a shorter time. */
  boolean reachable() {
    return reachable;
  }

  boolean isAllowed(String url) {
    return rules.isAllowed(url);
  }

  /** The Crawl-delay for our group in milliseconds, or -1 when robots.txt sets none. */
  long crawlDelayMs() {
    long delay = rules.getCrawlDelay();
    return delay == BaseRobotRules.UNSET_CRAWL_DELAY ? -1 : delay;
  }

  /** The product token robots.txt groups are matched against: the User-Agent up to its first {@code /} or space. */
  static String agentToken(String userAgent) {
    String token = userAgent.strip().split("[/\\s]", 2)[0];
    return token.isEmpty() ? "fetchbus" : token;
  }
}
