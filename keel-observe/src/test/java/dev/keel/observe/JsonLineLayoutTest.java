package dev.keel.observe;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/** Log lines are JSON objects with the run, trace, tenant and request ids, secrets masked. */
class JsonLineLayoutTest {
  static final String SECRET = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";

  @Test
  void everyLineIsJsonWithContextAndNoSecret() {
    LoggerContext ctx = new LoggerContext();
    ctx.setMDCAdapter(MDC.getMDCAdapter());
    ctx.start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    JsonLineLayout layout = new JsonLineLayout();
    layout.setContext(ctx);
    layout.start();
    LayoutWrappingEncoder<ILoggingEvent> enc = new LayoutWrappingEncoder<>();
    enc.setContext(ctx);
    enc.setLayout(layout);
    enc.start();
    OutputStreamAppender<ILoggingEvent> app = new OutputStreamAppender<>();
    app.setContext(ctx);
    app.setEncoder(enc);
    app.setOutputStream(out);
    app.start();
    Logger log = ctx.getLogger("dev.keel.test");
    log.addAppender(app);

    MDC.put("run_id", "run_1");
    MDC.put("trace_id", RunTraceIds.of("run_1"));
    MDC.put("tenant", "acme");
    MDC.put("request_id", "req_1");
    try {
      log.info("calling with token {}", SECRET);
      log.error(
          "tool failed", new IllegalStateException("GET https://x.test/?token=" + SECRET + " 401"));
    } finally {
      MDC.clear();
    }
    log.warn("no context \"quoted\"\n second line");

    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(text).doesNotContain(SECRET);
    String[] lines = text.split("\n");
    assertThat(lines).hasSize(3);
    for (String line : lines) {
      JsonValue.JsonObject o = (JsonValue.JsonObject) JsonParser.parse(line);
      assertThat(o.members().keySet())
          .contains("ts", "level", "logger", "msg", "run_id", "trace_id", "tenant", "request_id");
    }
    JsonValue.JsonObject first = (JsonValue.JsonObject) JsonParser.parse(lines[0]);
    assertThat(first.members().get("run_id")).isEqualTo(JsonValue.of("run_1"));
    assertThat(first.members().get("trace_id")).isEqualTo(JsonValue.of(RunTraceIds.of("run_1")));
    assertThat(first.members().get("tenant")).isEqualTo(JsonValue.of("acme"));
    assertThat(first.members().get("request_id")).isEqualTo(JsonValue.of("req_1"));
    assertThat(first.members().get("msg")).isEqualTo(JsonValue.of("calling with token [REDACTED]"));
    JsonValue.JsonObject second = (JsonValue.JsonObject) JsonParser.parse(lines[1]);
    assertThat(second.members().get("error").toString()).contains("IllegalStateException");
    JsonValue.JsonObject third = (JsonValue.JsonObject) JsonParser.parse(lines[2]);
    assertThat(third.members().get("run_id")).isEqualTo(JsonValue.of(""));
    assertThat(third.members().get("msg"))
        .isEqualTo(JsonValue.of("no context \"quoted\"\n second line"));
  }

  @Test
  void thePatternConverterMasksMessagesAndStackTraces() {
    RedactingMessageConverter c = new RedactingMessageConverter();
    LoggerContext ctx = new LoggerContext();
    Logger log = ctx.getLogger("x");
    var ev =
        new ch.qos.logback.classic.spi.LoggingEvent(
            "x",
            log,
            ch.qos.logback.classic.Level.ERROR,
            "key {}",
            new RuntimeException("Authorization: Bearer " + SECRET),
            new Object[] {"AKIAIOSFODNN7EXAMPLE"});
    String s = c.convert(ev);
    assertThat(s).doesNotContain(SECRET, "AKIAIOSFODNN7EXAMPLE").contains("RuntimeException");
  }
}
