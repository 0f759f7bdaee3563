package dev.keel.observe;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;

/**
 * {@code %redactedMessage} for pattern layouts: the formatted message and, if any, the stack trace,
 * with secrets masked. Register with {@code <conversionRule conversionWord="redactedMessage"
 * class="dev.keel.observe.RedactingMessageConverter"/>} and end the pattern with {@code %nopex} so
 * the throwable is not printed a second time unmasked.
 */
public final class RedactingMessageConverter extends ClassicConverter {
  @Override
  public String convert(ILoggingEvent event) {
    String msg = event.getFormattedMessage();
    if (event.getThrowableProxy() != null) {
      msg = msg + System.lineSeparator() + ThrowableProxyUtil.asString(event.getThrowableProxy());
    }
    return LogRedaction.current().redact(String.valueOf(msg));
  }
}
