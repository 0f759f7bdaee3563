package dev.keel.observe;

import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Layout;
import ch.qos.logback.core.LayoutBase;
import java.util.Locale;

/**
 * The process's log layout: {@code format} {@code json} writes {@link JsonLineLayout} lines,
 * anything else the {@code pattern} (which should use {@code %redactedMessage}). One appender
 * serves both, chosen by {@code KEEL_LOG_FORMAT}, so logback never warns about an unused appender.
 */
public final class KeelLogLayout extends LayoutBase<ILoggingEvent> {
  private String format = "text";
  private String pattern = "%d{HH:mm:ss.SSS} %-5level %logger{24} - %redactedMessage%n%nopex";
  private Layout<ILoggingEvent> delegate = new JsonLineLayout();

  /** {@code json} or {@code text}. */
  public void setFormat(String format) {
    this.format = format.strip().toLowerCase(Locale.ROOT);
  }

  /** The pattern of the text format. */
  public void setPattern(String pattern) {
    this.pattern = pattern;
  }

  @Override
  public void start() {
    if (format.equals("json")) {
      delegate = new JsonLineLayout();
    } else {
      PatternLayout p = new PatternLayout();
      p.setPattern(pattern);
      delegate = p;
    }
    delegate.setContext(getContext());
    delegate.start();
    super.start();
  }

  @Override
  public String doLayout(ILoggingEvent event) {
    return delegate.doLayout(event);
  }
}
