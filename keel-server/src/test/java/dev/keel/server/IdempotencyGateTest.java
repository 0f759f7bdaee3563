package dev.keel.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.json.JsonValue;
import dev.keel.testkit.ManualClock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class IdempotencyGateTest {
  final ManualClock clock = new ManualClock();
  final IdempotencyGate gate = new IdempotencyGate(new InMemoryIdempotencyStore(), clock);
  final AtomicInteger effects = new AtomicInteger();

  Reply work() {
    return new Reply(201, JsonValue.of(effects.incrementAndGet()));
  }

  @Test
  void sameKeySameBodyReplaysOtherBodyIs409AndExpiryForgets() throws Exception {
    assertThat(gate.run("t", "POST /v1/runs", "k", "h1", this::work).body().toString())
        .isEqualTo("1");
    Reply again = gate.run("t", "POST /v1/runs", "k", "h1", this::work);
    assertThat(again.status()).isEqualTo(201);
    assertThat(again.body().toString()).isEqualTo("1");
    assertThatThrownBy(() -> gate.run("t", "POST /v1/runs", "k", "h2", this::work))
        .isInstanceOfSatisfying(
            ApiException.class, x -> assertThat(x.code()).isEqualTo("idempotency_key_reused"));
    assertThat(gate.run("other", "POST /v1/runs", "k", "h2", this::work).body().toString())
        .isEqualTo("2");
    clock.advance(Duration.ofHours(25));
    assertThat(gate.run("t", "POST /v1/runs", "k", "h2", this::work).body().toString())
        .isEqualTo("3");
    assertThat(effects.get()).isEqualTo(3);
  }

  @Test
  void serverErrorsAreNotRememberedButClientErrorsAre() throws Exception {
    assertThatThrownBy(
            () ->
                gate.run(
                    "t",
                    "s",
                    "k",
                    "h",
                    () -> {
                      throw new ApiException(503, "x", "x", "x");
                    }))
        .isInstanceOf(ApiException.class);
    assertThat(gate.run("t", "s", "k", "h", this::work).status()).isEqualTo(201);
    assertThatThrownBy(
            () ->
                gate.run(
                    "t",
                    "s",
                    "k2",
                    "h",
                    () -> {
                      throw new ApiException(404, "not_found", "Not found", "no such run");
                    }))
        .isInstanceOf(ApiException.class);
    Reply replayed = gate.run("t", "s", "k2", "h", this::work);
    assertThat(replayed.status()).isEqualTo(404);
    assertThat(replayed.body().toString()).contains("not_found");
  }

  @Test
  void expiredAnswersArePurgedAtMostHourly() throws Exception {
    InMemoryIdempotencyStore store = new InMemoryIdempotencyStore();
    IdempotencyGate g = new IdempotencyGate(store, clock);
    g.run("t", "s", "old", "h", this::work);
    clock.advance(Duration.ofHours(25));
    g.run("t", "s", "new", "h", this::work);
    assertThat(store.purge(clock.instant().minus(Duration.ofHours(1))))
        .as("the 25-hour-old answer was purged by the gate before this")
        .isZero();
  }

  @Test
  void badKeysAreRejected() {
    assertThatThrownBy(() -> gate.run("t", "s", "has space", "h", this::work))
        .isInstanceOf(ApiException.class);
  }
}
