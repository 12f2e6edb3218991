package io.fetchbus.firecrawl;

import io.fetchbus.bus.CrawlJob;
import io.fetchbus.bus.FirecrawlDocument;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * A Fetchbus job, as Firecrawl's crawl and batch scrape status show one. {@code status} is {@code scraping} while the
 * job is queued or running. {@code completed} counts the URLs done with (stored, failed for good, or disallowed by
 * robots.txt) and {@code total} those plus the ones queued or in flight, so that they meet when the job ends, as
 * Firecrawl's do; URLs never fetched because the limit was reached or the job was cancelled are in neither.
 * {@code creditsUsed} is the pages stored (Fetchbus has no credits: one a page, as Firecrawl counts a scrape).
 */
final class JobAnswers {
  private JobAnswers() {}

  static String status(CrawlJob job) {
    return switch (job.status()) {
      case CrawlJob.COMPLETED, CrawlJob.CANCELLED, CrawlJob.FAILED -> job.status();
      default -> "scraping";
    };
  }

  /**
   * The status with {@code pages} (page records with the job's formats) as documents; {@code next} when there is
   * more; {@code expiresAt} when {@code retention.pagesDays} deletes pages (null: kept for good, and not sent).
   */
  static JsonObject of(CrawlJob job, JsonArray pages, String next, Integer retentionDays) {
    JsonObject answer = new JsonObject().put("success", true).put("status", status(job))
        .put("completed", job.completed() + job.failed() + job.robotsBlocked())
        .put("total", job.completed() + job.failed() + job.robotsBlocked() + job.queued() + job.inProgress())
        .put("creditsUsed", job.completed());
    if (retentionDays != null && job.createdAt() != null) {
      answer.put("expiresAt", job.createdAt().plus(Duration.ofDays(retentionDays)).toString());
    }
    if (next != null) {
      answer.put("next", next);
    }
    return answer.put("data", documents(job, pages));
  }

  static JsonArray documents(CrawlJob job, JsonArray pages) {
    Set<String> formats = FirecrawlDocument.formatsOf(formats(job));
    JsonArray docs = new JsonArray();
    pages.forEach(p -> docs.add(document((JsonObject) p, formats)));
    return docs;
  }

  static JsonObject document(JsonObject page, Set<String> formats) {
    return FirecrawlDocument.of(page, page.getString("url"), formats);
  }

  /** The Fetchbus formats the job's pages are listed with: the job's own, and metadata always. */
  static List<?> formats(CrawlJob job) {
    JsonArray formats = job.spec() == null ? null : job.spec().getJsonArray("formats");
    JsonArray out = new JsonArray().add("metadata");
    if (formats != null) {
      formats.forEach(f -> {
        if (!out.contains(f)) {
          out.add(f);
        }
      });
    }
    return out.getList();
  }
}
