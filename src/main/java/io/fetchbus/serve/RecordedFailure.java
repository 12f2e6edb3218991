package io.fetchbus.serve;

/** A failed fetch whose attempt was stored as a page, so the problem can point at it with {@code instance}. */
public final class RecordedFailure extends RuntimeException {
  private final long pageId;

  RecordedFailure(Throwable cause, long pageId) {
    super(cause.getMessage(), cause, false, false);
    this.pageId = pageId;
  }

  public long pageId() {
    return pageId;
  }
}
