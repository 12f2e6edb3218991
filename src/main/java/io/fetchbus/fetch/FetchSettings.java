package io.fetchbus.fetch;

import io.fetchbus.config.Settings;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The {@code fetch} and {@code cache} parts of the config, checked once at start. */
record FetchSettings(int connectTimeoutMs, int firstByteTimeoutMs, int idleTimeoutMs, int timeoutMs, long maxBodyBytes,
                     int maxRedirects, int maxConnectionsPerHost, int maxInFlight, int maxQueued,
                     int perHostConcurrency, int perHostQueue, long perHostDelayMs, String userAgent,
                     long cacheMaxBytes, long cacheTtlSeconds, Retry retry, Robots robots, Guard guard, int ownHttpPort) {

  /** {@code fetch.retry}: attempts after the first, and the backoff between them. */
  record Retry(int max, long baseDelayMs, long maxDelayMs) {
    static Retry from(JsonObject config) {
      return new Retry(integer(config, "fetch.retry", "max"), whole(config, "fetch.retry", "baseDelayMs"),
          whole(config, "fetch.retry", "maxDelayMs"));
    }
  }

  /** {@code fetch.robots}: the robots.txt cache, and the cap on a Crawl-delay we honour. */
  record Robots(long maxOrigins, long ttlSeconds, long errorTtlSeconds, long maxCrawlDelayMs) {
    static Robots from(JsonObject config) {
      return new Robots(whole(config, "fetch.robots", "maxOrigins"), whole(config, "fetch.robots", "ttlSeconds"),
          whole(config, "fetch.robots", "errorTtlSeconds"), whole(config, "fetch.robots", "maxCrawlDelayMs"));
    }
  }

  /** {@code fetch.guard}: the destination guard's settings. */
  record Guard(boolean allowPrivateNetworks, List<Cidr> allow, List<Cidr> deny, Set<Integer> ports) {
    static Guard from(JsonObject config) {
      List<Cidr> allow = new ArrayList<>();
      Settings.array(config, "fetch.guard", "allow").forEach(c -> allow.add(Cidr.parse(c.toString())));
      List<Cidr> deny = new ArrayList<>();
      Settings.array(config, "fetch.guard", "deny").forEach(c -> deny.add(Cidr.parse(c.toString())));
      Set<Integer> ports = new HashSet<>();
      Settings.array(config, "fetch.guard", "ports").forEach(p -> ports.add(Integer.parseInt(p.toString())));
      return new Guard(Settings.bool(config, "fetch.guard", "allowPrivateNetworks"), List.copyOf(allow),
          List.copyOf(deny), Set.copyOf(ports));
    }
  }

  /** The part of the heap the fetch cache takes when {@code cache.maxBytes} is 0: 16 MB of -Xmx256m, 64 MB of 1 GB. */
  static final int HEAP_SHARE = 16;

  /**
   * {@code cache.maxBytes}, or when it is 0 a sixteenth of {@code maxHeap} (1 MB at least). The cached bodies live
   * as long as the cache keeps them, so they fill the old generation: a fixed share that is large for a small heap
   * (the old 64 MB default was a quarter of -Xmx256m) leaves the collector too little room, and it collects all the
   * time. Negative values stay negative, so that the check below refuses them.
   */
  static long cacheBound(long configured, long maxHeap) {
    return configured == 0 ? Math.max(1L << 20, maxHeap / HEAP_SHARE) : configured;
  }

  /**
   * Read without defaults: the configuration holds the jar's ({@link Settings}). A test builds its settings from
   * {@code ConfigLoader.loadNow}'s, with its own values laid over them.
   */
  static FetchSettings from(JsonObject config) {
    FetchSettings s = new FetchSettings(integer(config, "fetch", "connectTimeoutMs"),
        integer(config, "fetch", "firstByteTimeoutMs"), integer(config, "fetch", "idleTimeoutMs"),
        integer(config, "fetch", "timeoutMs"), whole(config, "fetch", "maxBodyBytes"),
        integer(config, "fetch", "maxRedirects"), integer(config, "fetch", "maxConnectionsPerHost"),
        integer(config, "fetch", "maxInFlight"), integer(config, "fetch", "maxQueued"),
        integer(config, "fetch", "perHostConcurrency"), integer(config, "fetch", "perHostQueue"),
        whole(config, "fetch", "perHostDelayMs"), Settings.string(config, "fetch", "userAgent"),
        cacheBound(whole(config, "cache", "maxBytes"), Runtime.getRuntime().maxMemory()),
        whole(config, "cache", "ttlSeconds"),
        Retry.from(config), Robots.from(config), Guard.from(config), integer(config, "http", "port"));
    if (s.cacheMaxBytes <= 0) {
      throw new IllegalArgumentException("cache.maxBytes must be 0 (a sixteenth of the heap) or positive");
    }
    if (s.maxBodyBytes <= 0 || s.maxBodyBytes > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("fetch.maxBodyBytes must be between 1 and " + (Integer.MAX_VALUE - 8));
    }
    if (s.maxInFlight <= 0 || s.maxConnectionsPerHost <= 0 || s.perHostConcurrency <= 0 || s.perHostQueue <= 0
        || s.maxQueued <= 0) {
      throw new IllegalArgumentException("fetch.maxInFlight, maxQueued, maxConnectionsPerHost, perHostConcurrency "
          + "and perHostQueue must be positive");
    }
    if (s.maxRedirects < 0 || s.timeoutMs <= 0 || s.connectTimeoutMs <= 0 || s.idleTimeoutMs <= 0
        || s.firstByteTimeoutMs <= 0 || s.perHostDelayMs < 0 || s.retry.max < 0) {
      throw new IllegalArgumentException("fetch timeouts must be positive; maxRedirects, perHostDelayMs and "
          + "retry.max not negative");
    }
    return s;
  }

  private static int integer(JsonObject config, String section, String name) {
    return Settings.number(config, section, name).intValue();
  }

  private static long whole(JsonObject config, String section, String name) {
    return Settings.number(config, section, name).longValue();
  }
}
