package dev.keel.tools;

import static dev.keel.tools.Fixtures.call;
import static dev.keel.tools.Fixtures.contract;
import static dev.keel.tools.Fixtures.json;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonValue;
import dev.keel.tool.Idempotency;
import dev.keel.tool.ToolResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class GovernedToolTest {
  private final Fixtures.Env env = new Fixtures.Env();
  private final JsonValue.JsonObject ok = json("{\"q\":\"hello\"}");

  private static ToolResult.Failure flaky() {
    return new ToolResult.Failure("unavailable", true, "upstream 503", "retry later");
  }

  @Test
  void invalidArgumentsNeverReachTheHandler() throws Exception {
    Fixtures.Spy spy = new Fixtures.Spy(contract("t.read", 0).build());
    GovernedTool tool = new GovernedTool(spy.tool, env.runtime);
    ToolResult r = tool.invoke(call("acme", "c1", json("{\"q\":5}")));
    assertThat(r)
        .isInstanceOfSatisfying(
            ToolResult.Failure.class,
            f -> {
              assertThat(f.type()).isEqualTo("invalid_arguments");
              assertThat(f.message()).contains("/q:");
            });
    assertThat(spy.calls).hasValue(0);
    assertThat(env.audit.of(ToolAuditEvent.CallDenied.class)).hasSize(1);
  }

  @Test
  void timeoutInterruptsTheWork() throws Exception {
    CountDownLatch never = new CountDownLatch(1);
    AtomicBoolean interrupted = new AtomicBoolean();
    CountDownLatch stopped = new CountDownLatch(1);
    Fixtures.Spy spy =
        new Fixtures.Spy(
            contract("t.slow", 0).timeout(Duration.ofMillis(50)).build(),
            inv -> {
              try {
                never.await();
                return new ToolResult.Success(JsonValue.NULL);
              } catch (InterruptedException e) {
                interrupted.set(true);
                stopped.countDown();
                throw e;
              }
            });
    ToolResult r = new GovernedTool(spy.tool, env.runtime).invoke(call("acme", "c1", ok));
    assertThat(r)
        .isInstanceOfSatisfying(
            ToolResult.Failure.class, f -> assertThat(f.type()).isEqualTo("timeout"));
    assertThat(stopped.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(interrupted).isTrue();
  }

  @Test
  void retriesRetryableFailuresOfIdempotentToolsWithGrowingJitteredBackoff() throws Exception {
    Fixtures.Spy spy =
        new Fixtures.Spy(
            contract("t.keyed", 3)
                .idempotency(Idempotency.KEYED)
                .retry(new RetryPolicy(4, Duration.ofMillis(100), Duration.ofSeconds(1), 2.0, 0.5))
                .build(),
            inv -> inv.attempt() < 4 ? flaky() : new ToolResult.Success(JsonValue.of("done")));
    ToolResult r = new GovernedTool(spy.tool, env.runtime).invoke(call("acme", "c1", ok));
    assertThat(r).isEqualTo(new ToolResult.Success(JsonValue.of("done")));
    assertThat(spy.calls).hasValue(4);
    assertThat(spy.seen).extracting(i -> i.idempotencyKey()).containsOnly("key-c1");
    assertThat(spy.seen).extracting(i -> i.attempt()).containsExactly(1, 2, 3, 4);
    assertThat(env.sleeper.waits).hasSize(3);
    assertThat(env.sleeper.waits.get(0)).isBetween(Duration.ofMillis(50), Duration.ofMillis(100));
    assertThat(env.sleeper.waits.get(1)).isBetween(Duration.ofMillis(100), Duration.ofMillis(200));
    assertThat(env.sleeper.waits.get(2)).isBetween(Duration.ofMillis(200), Duration.ofMillis(400));
  }

  @Test
  void nonRetryableFailuresAndNonIdempotentToolsAreNotRetried() throws Exception {
    Fixtures.Spy fatal =
        new Fixtures.Spy(
            contract("t.fatal", 0).retry(RetryPolicy.DEFAULT).build(),
            inv -> new ToolResult.Failure("bad_request", false, "no", ""));
    new GovernedTool(fatal.tool, env.runtime).invoke(call("acme", "c1", ok));
    assertThat(fatal.calls).hasValue(1);
    Fixtures.Spy once =
        new Fixtures.Spy(
            contract("t.once", 3).idempotency(Idempotency.NONE).build(), inv -> flaky());
    new GovernedTool(once.tool, env.runtime).invoke(call("acme", "c2", ok));
    assertThat(once.calls).hasValue(1);
    assertThat(env.sleeper.waits).isEmpty();
  }

  @Test
  void breakerOpensProbesAndClosesOnTheManualClock() throws Exception {
    AtomicBoolean healthy = new AtomicBoolean(false);
    Fixtures.Spy spy =
        new Fixtures.Spy(
            contract("t.dep", 0).build(),
            inv -> healthy.get() ? new ToolResult.Success(JsonValue.TRUE) : flaky());
    GovernedTool tool = new GovernedTool(spy.tool, env.runtime);
    for (int i = 0; i < 4; i++) {
      tool.invoke(call("acme", "c" + i, ok));
    }
    assertThat(tool.breaker().state()).isEqualTo(CircuitBreaker.State.OPEN);
    ToolResult refused = tool.invoke(call("acme", "c9", ok));
    assertThat(refused)
        .isInstanceOfSatisfying(
            ToolResult.Failure.class, f -> assertThat(f.type()).isEqualTo("circuit_open"));
    assertThat(spy.calls).hasValue(4);
    env.clock.advance(Duration.ofSeconds(30));
    tool.invoke(call("acme", "p1", ok));
    assertThat(tool.breaker().state()).isEqualTo(CircuitBreaker.State.OPEN);
    env.clock.advance(Duration.ofSeconds(30));
    healthy.set(true);
    tool.invoke(call("acme", "p2", ok));
    assertThat(tool.breaker().state()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
    tool.invoke(call("acme", "p3", ok));
    assertThat(tool.breaker().state()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(env.audit.of(ToolAuditEvent.BreakerTransitioned.class))
        .extracting(e -> e.from() + "->" + e.to())
        .containsExactly(
            "CLOSED->OPEN",
            "OPEN->HALF_OPEN",
            "HALF_OPEN->OPEN",
            "OPEN->HALF_OPEN",
            "HALF_OPEN->CLOSED");
  }

  @Test
  void rateLimitsApplyPerToolAndPerTenant() throws Exception {
    Fixtures.Spy spy =
        new Fixtures.Spy(
            contract("t.rl", 0)
                .limits(
                    new Limits(
                        new RateLimit(3, Duration.ofMinutes(1)),
                        new RateLimit(2, Duration.ofMinutes(1)),
                        10,
                        10))
                .build());
    GovernedTool tool = new GovernedTool(spy.tool, env.runtime);
    assertThat(tool.invoke(call("acme", "a1", ok))).isInstanceOf(ToolResult.Success.class);
    assertThat(tool.invoke(call("acme", "a2", ok))).isInstanceOf(ToolResult.Success.class);
    assertThat(tool.invoke(call("acme", "a3", ok)))
        .isInstanceOfSatisfying(
            ToolResult.Failure.class, f -> assertThat(f.type()).isEqualTo("rate_limited"));
    assertThat(tool.invoke(call("globex", "g1", ok))).isInstanceOf(ToolResult.Success.class);
    assertThat(tool.invoke(call("globex", "g2", ok))).isInstanceOf(ToolResult.Failure.class);
    assertThat(spy.calls).hasValue(3);
    env.clock.advance(Duration.ofSeconds(40));
    assertThat(tool.invoke(call("globex", "g3", ok))).isInstanceOf(ToolResult.Success.class);
  }

  @Test
  void concurrencyIsCappedPerTenant() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch entered = new CountDownLatch(1);
    Fixtures.Spy spy =
        new Fixtures.Spy(
            contract("t.busy", 0)
                .limits(new Limits(RateLimit.UNLIMITED, RateLimit.UNLIMITED, 5, 1))
                .build(),
            inv -> {
              entered.countDown();
              release.await();
              return new ToolResult.Success(JsonValue.TRUE);
            });
    GovernedTool tool = new GovernedTool(spy.tool, env.runtime);
    Thread first =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    tool.invoke(call("acme", "c1", ok));
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
    assertThat(entered.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(tool.invoke(call("acme", "c2", ok)))
        .isInstanceOfSatisfying(
            ToolResult.Failure.class, f -> assertThat(f.type()).isEqualTo("concurrency_limited"));
    release.countDown();
    first.join();
    assertThat(spy.calls).hasValue(1);
  }

  @Test
  void largeOutputIsTruncatedWithAMarkerAndKeptWholeAsAnArtifact() throws Exception {
    String big = "x".repeat(5000);
    Fixtures.Spy spy =
        new Fixtures.Spy(
            contract("t.big", 0).maxOutputBytes(1024).build(),
            inv -> new ToolResult.Success(JsonValue.object("text", big)));
    ToolResult r = new GovernedTool(spy.tool, env.runtime).invoke(call("acme", "c1", ok));
    JsonValue.JsonObject data = (JsonValue.JsonObject) ((ToolResult.Success) r).data();
    assertThat(data.get("truncated")).contains(JsonValue.TRUE);
    assertThat(data.string("marker").orElseThrow()).contains("truncated");
    assertThat(data.toString().getBytes(StandardCharsets.UTF_8).length).isLessThan(1024 + 512);
    String ref = data.string("artifact").orElseThrow();
    assertThat(new String(env.artifacts.stored.get(ref), StandardCharsets.UTF_8))
        .isEqualTo(JsonValue.object("text", big).toString());
  }

  @Test
  void outputMustMatchItsSchemaAndSecretsAreMasked() throws Exception {
    Fixtures.Spy wrong =
        new Fixtures.Spy(
            contract("t.typed", 0)
                .outputSchema(json("{\"type\":\"object\",\"required\":[\"n\"]}"))
                .build(),
            inv -> new ToolResult.Success(JsonValue.object("m", 1)));
    assertThat(new GovernedTool(wrong.tool, env.runtime).invoke(call("acme", "c1", ok)))
        .isInstanceOfSatisfying(
            ToolResult.Failure.class, f -> assertThat(f.type()).isEqualTo("invalid_output"));
    Fixtures.Spy leaky =
        new Fixtures.Spy(
            contract("t.leaky", 0).build(),
            inv -> new ToolResult.Success(JsonValue.object("echo", "key=canary-secret-4711")));
    ToolResult r = new GovernedTool(leaky.tool, env.runtime).invoke(call("acme", "c2", ok));
    assertThat(r.toString()).doesNotContain("canary-secret-4711");
    assertThat(env.audit.events.toString()).doesNotContain("canary-secret-4711");
  }

  @Test
  void handlerExceptionsBecomeNormalizedFailures() throws Exception {
    Fixtures.Spy boom =
        new Fixtures.Spy(
            contract("t.boom", 0).build(),
            inv -> {
              throw new IllegalStateException("kaput");
            });
    assertThat(new GovernedTool(boom.tool, env.runtime).invoke(call("acme", "c1", ok)))
        .isInstanceOfSatisfying(
            ToolResult.Failure.class,
            f -> {
              assertThat(f.type()).isEqualTo("tool_error");
              assertThat(f.retryable()).isFalse();
            });
  }
}
