package io.fetchbus.store;

import io.fetchbus.bus.Bus;
import io.fetchbus.bus.Failure;
import io.fetchbus.bus.Page;
import io.fetchbus.bus.SavePage;
import io.fetchbus.bus.WebUrl;
import io.fetchbus.ops.Meters;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.DatabaseException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Group commit for crawl completions that store a page. Every completion of a job holds the job's row lock from its
 * frontier changes to its commit, so one job's completions run one after another; here those that arrive while one
 * of the job's writes runs wait, and go with each other as the next one: one transaction, one hold of the lock, one
 * WAL flush, and one statement per depth among them for the frontier ({@code crawl_complete_pages}, V14). The pages
 * and bodies go in before the lock is taken, so that claims wait for the frontier's part only. An idle store
 * completes a page at once, with the single statement of {@link CrawlSql#COMPLETE_WITH_PAGE}. Each completion keeps
 * its own answer: its page, 409 {@code lease-lost} when its lease ended (nothing of it is written), or 409
 * {@code conflict} when its fetch id was stored before. If a batch fails for one completion (its data refused, or its
 * lease lost between the first check and the lock), each is written again on its own, so that only that one fails.
 * Completions wait in a bounded queue; past it they fail at once (503). Used from the store verticle's event loop
 * only.
 */
final class CrawlCompletions {
  /** One page to complete its entry with, and who waits for the answer. */
  record Completion(String jobId, String urlKey, String token, SavePage save, WebUrl url, String[][] links) {}

  private record Pending(Completion completion, Tuple page, Promise<JsonObject> done) {}

  private static final Comparator<Pending> LOCK_ORDER = Comparator.comparing(Pending::page, PageRows.LOCK_ORDER);

  private final Pool pool;
  private final EventBus bus;
  private final Meters meters;
  private final boolean searchable;
  private final int maxBatch;
  private final long maxBatchBytes;
  private final int maxInFlight;
  private final int maxQueued;
  /**
   * Per job, the completions waiting; a job has one write in flight at a time (a second one's frontier part would
   * wait for the job's lock, and a second write of each was measured no faster).
   */
  private final Map<String, ArrayDeque<Pending>> queued = new LinkedHashMap<>();
  private final Set<String> writing = new HashSet<>();
  private int waiting;

  CrawlCompletions(Pool pool, EventBus bus, Meters meters, boolean searchable, int maxBatch, long maxBatchBytes,
                   int maxInFlight, int maxQueued) {
    this.pool = pool;
    this.bus = bus;
    this.meters = meters;
    this.searchable = searchable;
    this.maxBatch = maxBatch;
    this.maxBatchBytes = maxBatchBytes;
    this.maxInFlight = maxInFlight;
    this.maxQueued = maxQueued;
  }

  /** Completes the entry with its page: {@code {"page"}}, once it is stored and the entry is done. */
  Future<JsonObject> complete(Completion c) {
    if (waiting >= maxQueued) {
      return Future.failedFuture(Failure.UNAVAILABLE.exception("the store has " + maxQueued
          + " crawl completions waiting to be written (pg.maxWaitQueue); retry later"));
    }
    Pending p = new Pending(c, PageRows.insertParams(c.save(), c.url(), UUID.fromString(c.jobId()), searchable),
        Promise.promise());
    queued.computeIfAbsent(c.jobId(), k -> new ArrayDeque<>()).add(p);
    waiting++;
    drain();
    return p.done().future();
  }

  private void drain() {
    // The batches are taken first and written after: a write that ends at once (the pool refusing it) drains again,
    // which must not find this loop's iterator open.
    List<List<Pending>> batches = new ArrayList<>();
    Iterator<Map.Entry<String, ArrayDeque<Pending>>> jobs = queued.entrySet().iterator();
    while (writing.size() < maxInFlight && jobs.hasNext()) {
      Map.Entry<String, ArrayDeque<Pending>> job = jobs.next();
      if (writing.contains(job.getKey())) {
        continue;
      }
      batches.add(takeBatch(job.getValue()));
      if (job.getValue().isEmpty()) {
        jobs.remove();
      }
      writing.add(job.getKey());
    }
    for (List<Pending> batch : batches) {
      String jobId = batch.get(0).completion().jobId();
      write(batch).onComplete(ar -> {
        writing.remove(jobId);
        drain();
      });
    }
  }

  /**
   * The next batch of a job: up to {@code maxBatch} completions, and body bytes up to {@code maxBatchBytes} (the first
   * always goes). A second completion of the same entry (a retry sent while the first still waited) waits for the
   * next batch, where its lease will have ended.
   */
  private List<Pending> takeBatch(ArrayDeque<Pending> queue) {
    List<Pending> batch = new ArrayList<>();
    Set<String> keys = new HashSet<>();
    long bytes = 0;
    for (Iterator<Pending> it = queue.iterator(); it.hasNext() && batch.size() < maxBatch; ) {
      Pending p = it.next();
      long size = p.completion().save().body() == null ? 0 : p.completion().save().body().length();
      if (!batch.isEmpty() && bytes + size > maxBatchBytes) {
        break;
      }
      if (keys.add(p.completion().urlKey())) {
        batch.add(p);
        bytes += size;
        it.remove();
        waiting--;
      }
    }
    return batch;
  }

  private Future<Void> write(List<Pending> batch) {
    if (batch.size() == 1) {
      return one(batch.get(0));
    }
    String jobId = batch.get(0).completion().jobId();
    List<Pending> stored = new ArrayList<>(batch.size());
    List<Page> pages = new ArrayList<>(batch.size());
    // Answers that need no write (a lost lease, a fetch id stored before) wait for the commit like the others: until
    // then the transaction may still fail, and the rest of the batch be written again one by one.
    List<Runnable> answers = new ArrayList<>();
    // Leases the first check found lost stay lost (a token is never given again), whatever becomes of the batch.
    Set<Pending> lost = Collections.newSetFromMap(new IdentityHashMap<>());
    // The pages go in before the job's lock is taken, which crawl_complete_pages takes at the end: claims wait for
    // the frontier's few statements and the commit only, not for the bodies.
    return pool.withTransaction(tx -> heldLeases(tx, jobId, batch)
            .compose(held -> {
              List<Pending> toStore = new ArrayList<>(batch.size());
              for (Pending p : batch) {
                if (held.contains(p.completion().urlKey())) {
                  toStore.add(p);
                } else {
                  lost.add(p);
                }
              }
              toStore.sort(LOCK_ORDER);
              return toStore.isEmpty() ? Future.succeededFuture()
                  : tx.preparedQuery(CrawlSql.INSERT_PAGE_FOR_JOB).executeBatch(toStore.stream().map(Pending::page).toList())
                      .map(first -> {
                        RowSet<Row> rows = first;
                        for (Pending p : toStore) {
                          if (rows.size() == 0) {
                            answers.add(() -> p.done().fail(conflict()));
                          } else {
                            stored.add(p);
                            pages.add(PageRows.page(rows.iterator().next()));
                          }
                          rows = rows.next();
                        }
                        return null;
                      });
            })
            .compose(v -> stored.isEmpty() ? Future.succeededFuture() : completePages(tx, jobId, stored, pages)))
        .<Void>map(v -> {
          meters.crawlGroupCommit(batch.size());
          lost.forEach(p -> p.done().fail(leaseLost(p.completion())));
          answers.forEach(Runnable::run);
          for (int i = 0; i < stored.size(); i++) {
            answer(stored.get(i), pages.get(i));
          }
          return null;
        })
        .recover(err -> {
          if (!oneAtFault(err)) {
            batch.forEach(p -> p.done().fail(err)); // PostgreSQL is gone or failing: none would do better alone
            return Future.succeededFuture();
          }
          // One completion the database refused, or a lease lost since the first check, rolled the batch back: each
          // again on its own, one after the other, so that only the one at fault fails.
          Future<Void> chain = Future.succeededFuture();
          for (Pending p : batch) {
            if (lost.contains(p)) {
              p.done().fail(leaseLost(p.completion()));
            } else {
              chain = chain.compose(v -> one(p));
            }
          }
          return chain;
        });
  }

  /**
   * The URL keys of the batch's entries whose lease is still theirs, read without a lock ({@link CrawlSql#HELD_LEASES}).
   */
  private static Future<Set<String>> heldLeases(SqlConnection tx, String jobId, List<Pending> batch) {
    String[] keys = batch.stream().map(p -> p.completion().urlKey()).toArray(String[]::new);
    // A uuid[] parameter is encoded only from UUIDs.
    UUID[] tokens = batch.stream().map(p -> UUID.fromString(p.completion().token())).toArray(UUID[]::new);
    return tx.preparedQuery(CrawlSql.HELD_LEASES).execute(Tuple.of(jobId, keys, tokens)).map(rows -> {
      Set<String> held = new HashSet<>();
      rows.forEach(r -> held.add(r.getString("url_key")));
      return held;
    });
  }

  /** Marks the entries of the stored pages done and adds their links, once their leases pass the check under the lock. */
  private static Future<Void> completePages(SqlConnection tx, String jobId, List<Pending> stored, List<Page> pages) {
    int n = stored.size();
    String[] keys = new String[n];
    UUID[] tokens = new UUID[n];
    Long[] pageIds = new Long[n];
    List<Integer> linkOf = new ArrayList<>();
    List<String> linkKeys = new ArrayList<>();
    List<String> linkUrls = new ArrayList<>();
    List<String> linkHosts = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Completion c = stored.get(i).completion();
      keys[i] = c.urlKey();
      tokens[i] = UUID.fromString(c.token());
      pageIds[i] = pages.get(i).id();
      String[][] links = c.links();
      for (int j = 0; j < links[0].length; j++) {
        linkOf.add(i + 1); // positions in PostgreSQL's arrays start at 1
        linkKeys.add(links[0][j]);
        linkUrls.add(links[1][j]);
        linkHosts.add(links[2][j]);
      }
    }
    return tx.preparedQuery(CrawlSql.COMPLETE_PAGES).execute(Tuple.tuple().addValue(jobId).addValue(keys)
            .addValue(tokens).addValue(pageIds).addValue(linkOf.toArray(Integer[]::new))
            .addValue(linkKeys.toArray(String[]::new)).addValue(linkUrls.toArray(String[]::new))
            .addValue(linkHosts.toArray(String[]::new)))
        .mapEmpty();
  }

  /** One completion in one statement: the page, then {@code crawl_complete} under the job's lock. */
  private Future<Void> one(Pending p) {
    Completion c = p.completion();
    String[][] link = c.links();
    Tuple params = Tuple.tuple();
    for (int i = 0; i < p.page().size(); i++) {
      params.addValue(p.page().getValue(i));
    }
    params.addValue(c.urlKey()).addValue(c.token()).addValue(link[0]).addValue(link[1]).addValue(link[2])
        .addValue(null);
    return pool.preparedQuery(CrawlSql.COMPLETE_WITH_PAGE).execute(params)
        .<Void>map(rows -> {
          if (rows.size() == 0) {
            p.done().fail(conflict());
          } else {
            answer(p, PageRows.page(rows.iterator().next()));
          }
          return null;
        })
        .recover(err -> {
          p.done().fail(err instanceof DatabaseException db && CrawlSql.LEASE_LOST.equals(db.getSqlState())
              ? leaseLost(c) : err);
          return Future.succeededFuture();
        });
  }

  private void answer(Pending p, Page page) {
    JsonObject json = page.toJson();
    bus.publish(Bus.PAGE_STORED, json);
    meters.pageStored(false);
    p.done().complete(new JsonObject().put("page", json));
  }

  private static Throwable leaseLost(Completion c) {
    return Failure.LEASE_LOST.exception("the lease on " + c.urlKey() + " expired or was taken over; the result is dropped");
  }

  private static Throwable conflict() {
    return Failure.CONFLICT.exception("page.fetchId: a page with this fetch id is stored already");
  }

  /**
   * A refusal of one completion's data (SQLSTATE class 22 or 23), a deadlock, or a lease lost between the check and
   * the job's lock (FB409), rather than a failure of the store.
   */
  private static boolean oneAtFault(Throwable err) {
    String state = err instanceof DatabaseException db && db.getSqlState() != null ? db.getSqlState() : "";
    return state.startsWith("22") || state.startsWith("23") || state.equals("40P01") || state.equals(CrawlSql.LEASE_LOST);
  }
}
