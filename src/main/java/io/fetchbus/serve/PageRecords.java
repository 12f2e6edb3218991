package io.fetchbus.serve;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.fetchbus.bus.FetchRequest;
import io.fetchbus.bus.Page;
import io.fetchbus.bus.WebUrl;
import io.fetchbus.ops.Meters;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.shareddata.Shareable;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.LongAdder;

/**
 * The hot page records of one node, so that the reads that dominate a busy service are answered from memory,
 * without a bus hop or a query: the newest page a request for a URL was answered with, for {@code POST /v1/fetch}
 * with {@code maxAgeSeconds} (a copy at most that old; kept apart for requests that ignore robots.txt, whose
 * answers must not serve requests that obey it), and
 * any page by id, for {@code GET /v1/pages/{id}}. Filled by every page this node fetched, stored or read, whether
 * it came from the upstream or from PostgreSQL. A page record never changes but when a conditional fetch finds it
 * unchanged (its {@code fetchedAt} moves): the store publishes that on {@code fetchbus.page.revalidated}, to every
 * node, and {@link #revalidated} replaces the copy held here. Bounded: 10,000 records by URL (each with its
 * encoded answer once a hit asked for it: a few KB), 16 MB of records by
 * id, for the fetch cache's TTL.
 */
public final class PageRecords implements Shareable {
  static final int MAX_RECORDS = 10_000;
  /** The local shared map that holds this package's node-wide state. */
  static final String SHARED = "fetchbus.serve";
  private static final String ROBOTS_IGNORED = " (robots ignored)";

  /** The bytes of records kept by id: about 16,000 records of a typical page. */
  static final long MAX_ID_BYTES = 16L * 1024 * 1024;
  /** Per-record overhead beyond its JSON: the buffer, the key and the cache's entry. */
  private static final int ENTRY_OVERHEAD = 200;

  private final Cache<String, Hot> byUrl;
  /** Records by id, kept encoded: a read answers these bytes as they are, and they take a third of the memory. */
  private final Cache<Long, Held> byId;
  private final LongAdder hits = new LongAdder();

  private PageRecords(long ttlSeconds) {
    // Their upkeep runs on the reading thread: handing it to the common pool woke a thread of its own every few
    // reads, on every cache hit's path (a futex call each, about 2% of an event loop's time).
    byUrl = Caffeine.newBuilder().maximumSize(MAX_RECORDS).expireAfterWrite(Duration.ofSeconds(ttlSeconds))
        .executor(Runnable::run).build();
    byId = Caffeine.newBuilder().maximumWeight(MAX_ID_BYTES)
        .weigher((Long id, Held held) -> held.json().length() + ENTRY_OVERHEAD)
        .expireAfterWrite(Duration.ofSeconds(ttlSeconds)).executor(Runnable::run).build();
  }

  /** The node's one instance; records are kept {@code ttlSeconds}, the fetch cache's TTL. */
  public static PageRecords shared(Vertx vertx, long ttl) {
    return vertx.sharedData().<String, PageRecords>getLocalMap(SHARED)
        .computeIfAbsent("records", k -> {
          PageRecords records = new PageRecords(ttl);
          Meters.of(vertx).recordHits(records::hits);
          return records;
        });
  }

  /** The newest page of the request's URL this node knows, if it is at most {@code maxAgeSeconds} old. */
  Page fresh(FetchRequest req) {
    Hot hot = freshHot(req);
    return hot == null ? null : hot.page();
  }

  /**
   * The same page as {@link #fresh}, as the JSON that answers a request for it with the default formats (marked
   * {@code fromCache}), encoded once for all the requests it answers.
   */
  public Buffer freshJson(FetchRequest req) {
    Hot hot = freshHot(req);
    return hot == null ? null : hot.asHit();
  }

  private Hot freshHot(FetchRequest req) {
    Hot hot = byUrl.getIfPresent(key(req));
    if (hot == null || hot.page().fetchedAt() == null
        || hot.page().fetchedAt().plusSeconds(req.maxAgeSeconds()).isBefore(Instant.now())) {
      return null;
    }
    hits.increment();
    return hot;
  }

  /** A page record by id, as JSON, if this node holds it. */
  public Buffer byId(long id) {
    Held held = byId.getIfPresent(id);
    return held == null ? null : held.json();
  }

  /** Keeps the page the request was answered with; failed attempts are never kept (they are not answers). */
  void remember(FetchRequest req, Page page) {
    if (page.error() == null) {
      Page record = page.withFromCache(false);
      byUrl.asMap().merge(key(req), new Hot(record), PageRecords::newer);
      remember(record);
    }
  }

  /**
   * Keeps a page read by id, and gives the JSON that answers a read of it, encoded once for this read and those
   * after it. An older copy never replaces a newer one: a record remembered from before a revalidation (an earlier
   * read, a fetch-cache hit) may arrive after it.
   */
  public Buffer remember(Page page) {
    Held held = Held.of(page);
    byId.asMap().merge(page.id(), held, Held::newer);
    return held.json();
  }

  /** A page found unchanged by a conditional fetch, on any node: the copies held here take its new times. */
  public void revalidated(Page page) {
    Page record = page.withFromCache(false);
    byId.asMap().computeIfPresent(page.id(), (id, old) -> Held.newer(old, Held.of(record)));
    String key;
    try {
      key = WebUrl.parse("url", page.url()).key();
    } catch (RuntimeException e) {
      return; // not a URL this node could have kept a record under
    }
    for (String k : new String[] {key, key + ROBOTS_IGNORED}) {
      byUrl.asMap().computeIfPresent(k, (kk, old) -> old.page().id() == page.id() ? new Hot(record) : old);
    }
  }

  /** A page deleted, on any node: this node answers with it no more, by id or as its URL's newest copy. */
  public void deleted(long id, String url) {
    byId.invalidate(id);
    String key;
    try {
      key = WebUrl.parse("url", url).key();
    } catch (RuntimeException e) {
      return; // not a URL this node could have kept a record under
    }
    for (String k : new String[] {key, key + ROBOTS_IGNORED}) {
      byUrl.asMap().computeIfPresent(k, (kk, old) -> old.page().id() == id ? null : old);
    }
  }

  /** Fetch requests answered from these records (reads by id are not cache lookups of a URL). */
  public long hits() {
    return hits.sum();
  }

  public long entries() {
    return byUrl.estimatedSize() + byId.estimatedSize();
  }

  /** A copy fetched without looking at robots.txt must not answer a request that obeys it (as in the fetch cache). */
  private static String key(FetchRequest req) {
    return req.obeyRobots() ? req.url().key() : req.url().key() + ROBOTS_IGNORED;
  }

  /** A record held by id: its JSON, and when its page was fetched (or last revalidated). */
  private record Held(Instant fetchedAt, Buffer json) {
    static Held of(Page page) {
      return new Held(page.fetchedAt(), page.withFromCache(false).toJson().toBuffer());
    }

    static Held newer(Held a, Held b) {
      return b.fetchedAt() != null && (a.fetchedAt() == null || !b.fetchedAt().isBefore(a.fetchedAt())) ? b : a;
    }
  }

  /** Of two pages of one URL, the one fetched last. */
  private static Hot newer(Hot a, Hot b) {
    Instant at = a.page().fetchedAt();
    Instant bt = b.page().fetchedAt();
    return bt != null && (at == null || !bt.isBefore(at)) ? b : a;
  }

  /** A page kept by URL, and its answer to a cache hit once one asked (a race only encodes it twice). */
  private static final class Hot {
    private final Page page;
    private volatile Buffer asHit;

    Hot(Page page) {
      this.page = page;
    }

    Page page() {
      return page;
    }

    Buffer asHit() {
      Buffer json = asHit;
      if (json == null) {
        json = page.withFromCache(true).toJson().toBuffer();
        asHit = json;
      }
      return json;
    }
  }
}
