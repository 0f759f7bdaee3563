package dev.keel.tools;

import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolResult;
import dev.keel.tools.java.JavaTool;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** Shared test helpers: a runtime on a manual clock, a recording audit, spy tools. */
final class Fixtures {
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private Fixtures() {}

  /** Parses a JSON object literal. */
  static JsonObject json(String text) {
    return (JsonObject) JsonParser.parse(text);
  }

  /** Audit events, kept in order. */
  static final class RecordingAudit implements ToolAudit {
    final List<ToolAuditEvent> events = new CopyOnWriteArrayList<>();

    @Override
    public void record(ToolAuditEvent event) {
      events.add(event);
    }

    <T extends ToolAuditEvent> List<T> of(Class<T> type) {
      return events.stream().filter(type::isInstance).map(type::cast).toList();
    }
  }

  /** An artifact sink that keeps artifacts in memory. */
  static final class MemoryArtifacts implements ArtifactSink {
    final Map<String, byte[]> stored = new ConcurrentHashMap<>();

    @Override
    public String store(String tenant, String runId, String callId, String type, byte[] content) {
      String ref = "artifact://" + tenant + "/" + runId + "/" + callId;
      stored.put(ref, content.clone());
      return ref;
    }
  }

  /** A sleeper that records waits and returns at once. */
  static final class RecordingSleeper implements Sleeper {
    final List<Duration> waits = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void sleep(Duration d) {
      waits.add(d);
    }
  }

  /** Everything a test runtime is made of. */
  static final class Env {
    final ManualClock clock = new ManualClock(T0);
    final RecordingAudit audit = new RecordingAudit();
    final MemoryArtifacts artifacts = new MemoryArtifacts();
    final RecordingSleeper sleeper = new RecordingSleeper();
    final Redactor redactor = new Redactor(List.of("canary-secret-4711"));
    final ToolRuntime runtime;

    Env() {
      this(new CircuitBreaker.Config(4, 4, 0.5, Duration.ofSeconds(30), 2));
    }

    Env(CircuitBreaker.Config breaker) {
      runtime =
          new ToolRuntime(clock, sleeper, new Random(42), audit, redactor, artifacts, breaker);
    }
  }

  /** A tool that counts its executions and answers with a scripted handler. */
  static final class Spy {
    final AtomicInteger calls = new AtomicInteger();
    final List<ToolInvocation> seen = new CopyOnWriteArrayList<>();
    final JavaTool tool;

    Spy(ToolContract contract, JavaTool.Handler handler) {
      tool =
          JavaTool.of(
              contract,
              inv -> {
                calls.incrementAndGet();
                seen.add(inv);
                return handler.handle(inv);
              });
    }

    Spy(ToolContract contract) {
      this(contract, inv -> new ToolResult.Success(JsonValue.object("ok", true)));
    }
  }

  /** A contract with the given name and risk, open to everyone. */
  static ToolContract.Builder contract(String name, int risk) {
    return ToolContract.builder(name)
        .description("test tool " + name)
        .riskLevel(risk)
        .availability(Availability.EVERYONE)
        .inputSchema(
            json(
                """
                {"type":"object","properties":{"q":{"type":"string","minLength":1}},
                 "required":["q"],"additionalProperties":false}
                """));
  }

  static ToolInvocation call(String tenant, String callId, JsonObject args) {
    return new ToolInvocation(tenant, "run-1", callId, "key-" + callId, args, 1);
  }

  static RunProfile profile(String tenant) {
    return new RunProfile(tenant, "run-1", "pro", "en-GB", java.util.Set.of(), java.util.Set.of());
  }
}
