package io.fetchbus.ops;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;
import java.util.Locale;
import java.util.Set;
import org.slf4j.LoggerFactory;

/**
 * The log layout, {@code text} (the default, for people) or {@code json} (one object per line, for log
 * pipelines), chosen by {@code log.format}. {@code logback.xml} has one console appender per layout, each
 * behind an {@link Only} filter, so the choice can be made once the configuration is read, without
 * reconfiguring logback; until then {@code FETCHBUS_LOG_FORMAT} decides.
 */
public final class LogFormat {
  public static final Set<String> FORMATS = Set.of("text", "json");
  private static volatile String current = initial();

  private LogFormat() {}

  private static String initial() {
    String env = System.getenv("FETCHBUS_LOG_FORMAT");
    return env != null && FORMATS.contains(env.toLowerCase(Locale.ROOT)) ? env.toLowerCase(Locale.ROOT) : "text";
  }

  /** Switches every following log line to {@code format}; an unknown format is refused. */
  public static void use(String format) {
    String f = format == null ? "text" : format.toLowerCase(Locale.ROOT);
    if (!FORMATS.contains(f)) {
      throw new IllegalArgumentException("log.format must be text or json, got '" + format + "'");
    }
    current = f;
  }

  public static String current() {
    return current;
  }

  /**
   * Writes out what the access log's asynchronous appenders still hold (logback.xml), waiting a second at most, and
   * stops them: called once the service has stopped, so the last requests' lines are not lost at exit.
   */
  public static void flushAccessLog() {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
      context.getLogger("io.fetchbus.access").iteratorForAppenders().forEachRemaining(Appender::stop);
    }
  }

  /** A logback filter that lets events through only while its layout is the one in use. */
  public static final class Only extends Filter<ILoggingEvent> {
    private String format = "text";

    public void setFormat(String format) {
      this.format = format;
    }

    @Override
    public FilterReply decide(ILoggingEvent event) {
      return format.equals(current) ? FilterReply.NEUTRAL : FilterReply.DENY;
    }
  }
}
