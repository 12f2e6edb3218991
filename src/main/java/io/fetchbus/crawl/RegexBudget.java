package io.fetchbus.crawl;

/**
 * How many steps (characters read by the regex engine) matching a job's patterns may take for one page's links:
 * {@value #STEPS_PER_LINK} per link on average, at least {@value #MIN_STEPS} for the page, and at most
 * {@value #LINK_STEPS} for any one link. That is tens of milliseconds of a worker thread per page, whatever the
 * patterns: {@code b*Z0} over a thousand long links would otherwise take seconds. Not thread-safe: one page's
 * links are judged on one thread.
 */
final class RegexBudget {
  static final long STEPS_PER_LINK = 20_000;
  static final long MIN_STEPS = 20_000_000;
  static final int LINK_STEPS = 200_000;

  /** Thrown from inside the regex engine when a budget is spent: the match is abandoned. */
  static final class Exhausted extends RuntimeException {
    private static final Exhausted INSTANCE = new Exhausted();

    private Exhausted() {
      super(null, null, false, false);
    }
  }

  private long left;

  private RegexBudget(long steps) {
    this.left = steps;
  }

  /** The budget of a page with {@code links} links (a sitemap's URLs are one page). */
  static RegexBudget forLinks(int links) {
    return new RegexBudget(Math.max(MIN_STEPS, STEPS_PER_LINK * links));
  }

  /** The steps of one link, drawn from the page's. */
  Link forLink() {
    return new Link();
  }

  final class Link {
    private int left = LINK_STEPS;

    /** {@code text} as a subject that spends a step of this link and of its page for each character read. */
    CharSequence counting(CharSequence text) {
      return new Counted(text);
    }

    private void step() {
      if (--left < 0 || --RegexBudget.this.left < 0) {
        throw Exhausted.INSTANCE;
      }
    }

    private final class Counted implements CharSequence {
      private final CharSequence text;

      Counted(CharSequence text) {
        this.text = text;
      }

      @Override
      public char charAt(int index) {
        step();
        return text.charAt(index);
      }

      @Override
      public int length() {
        return text.length();
      }

      @Override
      public CharSequence subSequence(int start, int end) {
        return new Counted(text.subSequence(start, end));
      }

      @Override
      public String toString() {
        return text.toString();
      }
    }
  }
}
