package io.fetchbus.fetch;

import io.vertx.core.json.JsonArray;
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
    static Retry from(JsonObject r) {
      return new Retry(r.getInteger("max", 2), r.getLong("baseDelayMs", 500L), r.getLong("maxDelayMs", 10_000L));
    }
  }

  /** {@code fetch.robots}: the robots.txt cache, and the cap on a Crawl-delay we honour. */
  record Robots(long maxOrigins, long ttlSeconds, long errorTtlSeconds, long maxCrawlDelayMs) {
    static Robots from(JsonObject r) {
      return new Robots(r.getLong("maxOrigins", 10_000L), r.getLong("ttlSeconds", 86_400L),
          r.getLong("errorTtlSeconds", 300L), r.getLong("maxCrawlDelayMs", 10_000L));
    }
  }

  /** {@code fetch.guard}: the destination guard's settings. */
  record Guard(boolean allowPrivateNetworks, List<Cidr> allow, List<Cidr> deny, Set<Integer> ports) {
    static Guard from(JsonObject g) {
      List<Cidr> allow = new ArrayList<>();
      g.getJsonArray("allow", new JsonArray()).forEach(c -> allow.add(Cidr.parse(c.toString())));
      List<Cidr> deny = new ArrayList<>();
      g.getJsonArray("deny", new JsonArray()).forEach(c -> deny.add(Cidr.parse(c.toString())));
      Set<Integer> ports = new HashSet<>();
      g.getJsonArray("ports", new JsonArray()).forEach(p -> ports.add(Integer.parseInt(p.toString())));
      return new Guard(g.getBoolean("allowPrivateNetworks", false), List.copyOf(allow), List.copyOf(deny), Set.copyOf(ports));
    }
  }

  /** The part of the heap the fetch cache takes when {@code cache.maxBytes} is 0: 16 MB of -Xmx256m, 64 MB of 1 GB. */
  static final int HEAP_SHARE = 16;

  /**
   * {@code cache.maxBytes}, or when it is 0 a sixteenth of {@code maxHeap}. The cached bodies live as long as the
   * cache keeps them, so they stay in the old generation: at a quarter of a 256 MB heap (the old fixed 64 MB) they
   * left G1 so little room that it collected every few milliseconds under a miss load (0.3-0.6 ms of GC CPU per
   * miss; 0.08 ms at 16 MB). Negative values stay negative, so that the check below refuses them.
   */
  static long cacheBound(long configured, long maxHeap) {
    return configured == 0 ? Math.max(1L << 20, maxHeap / HEAP_SHARE) : configured;
  }

  static FetchSettings from(JsonObject config) {
    JsonObject f = config.getJsonObject("fetch", new JsonObject());
    JsonObject c = config.getJsonObject("cache", new JsonObject());
    FetchSettings s = new FetchSettings(f.getInteger("connectTimeoutMs", 5000), f.getInteger("firstByteTimeoutMs", 15000),
        f.getInteger("idleTimeoutMs", 15000), f.getInteger("timeoutMs", 30000), f.getLong("maxBodyBytes", 10L << 20),
        f.getInteger("maxRedirects", 5), f.getInteger("maxConnectionsPerHost", 8), f.getInteger("maxInFlight", 256),
        f.getInteger("maxQueued", 4096), f.getInteger("perHostConcurrency", 4), f.getInteger("perHostQueue", 256),
        f.getLong("perHostDelayMs", 0L), f.getString("userAgent", "Fetchbus"),
        cacheBound(c.getLong("maxBytes", 0L), Runtime.getRuntime().maxMemory()), c.getLong("ttlSeconds", 3600L),
        Retry.from(f.getJsonObject("retry", new JsonObject())), Robots.from(f.getJsonObject("robots", new JsonObject())),
        Guard.from(f.getJsonObject("guard", new JsonObject())),
        config.getJsonObject("http", new JsonObject()).getInteger("port", 8080));
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
}
