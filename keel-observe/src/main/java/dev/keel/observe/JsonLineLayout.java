package dev.keel.observe;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import java.time.Instant;
import java.util.Map;

/**
 * One JSON object per log line: {@code ts}, {@code level}, {@code logger}, {@code thread}, {@code
 * msg}, the MDC keys {@code run_id}, {@code trace_id}, {@code tenant}, {@code request_id} (always
 * present, empty when unknown), any other MDC entries, and {@code error} with the stack trace. The
 * message, the error and every MDC value pass through the redaction layer.
 */
public final class JsonLineLayout extends LayoutBase<ILoggingEvent> {
  private static final String[] ALWAYS = {
    LogContextObserver.RUN_ID,
    LogContextObserver.TRACE_ID,
    LogContextObserver.TENANT,
    LogContextObserver.REQUEST_ID
  };

  @Override
  public String doLayout(ILoggingEvent event) {
    var r = LogRedaction.current();
    StringBuilder sb = new StringBuilder(256);
    sb.append('{');
    field(sb, "ts", Instant.ofEpochMilli(event.getTimeStamp()).toString());
    sb.append(',');
    field(sb, "level", event.getLevel().toString());
    sb.append(',');
    field(sb, "logger", event.getLoggerName());
    sb.append(',');
    field(sb, "thread", event.getThreadName());
    sb.append(',');
    field(sb, "msg", r.redact(String.valueOf(event.getFormattedMessage())));
    Map<String, String> mdc = event.getMDCPropertyMap();
    for (String k : ALWAYS) {
      sb.append(',');
      field(sb, k, r.redact(mdc.getOrDefault(k, "")));
    }
    for (Map.Entry<String, String> e : mdc.entrySet()) {
      if (!java.util.List.of(ALWAYS).contains(e.getKey())) {
        sb.append(',');
        field(sb, e.getKey(), r.redact(String.valueOf(e.getValue())));
      }
    }
    if (event.getThrowableProxy() != null) {
      sb.append(',');
      field(sb, "error", r.redact(ThrowableProxyUtil.asString(event.getThrowableProxy())));
    }
    sb.append('}').append(CoreConstants.LINE_SEPARATOR);
    return sb.toString();
  }

  private static void field(StringBuilder sb, String key, String value) {
    quote(sb, key);
    sb.append(':');
    quote(sb, value);
  }

  private static void quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
