package dev.keel.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.json.JsonValue;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class IdempotencyCacheTest {
  final AtomicLong now = new AtomicLong();
  final IdempotencyCache cache = new IdempotencyCache(now::get);
  final AtomicInteger effects = new AtomicInteger();

  Reply work() {
    return new Reply(201, JsonValue.of(effects.incrementAndGet()));
  }

  @Test
  void sameKeySameBodyReplaysOtherBodyIs409AndExpiryForgets() throws Exception {
    assertThat(cache.run("t", "k", "h1", this::work).body().toString()).isEqualTo("1");
    assertThat(cache.run("t", "k", "h1", this::work).body().toString()).isEqualTo("1");
    assertThatThrownBy(() -> cache.run("t", "k", "h2", this::work))
        .isInstanceOfSatisfying(
            ApiException.class, x -> assertThat(x.code()).isEqualTo("idempotency_key_reused"));
    assertThat(cache.run("other-tenant", "k", "h2", this::work).body().toString()).isEqualTo("2");
    now.addAndGet(Duration.ofHours(25).toNanos());
    assertThat(cache.run("t", "k", "h2", this::work).body().toString()).isEqualTo("3");
    assertThat(effects.get()).isEqualTo(3);
  }

  @Test
  void serverErrorsAreNotRemembered() throws Exception {
    assertThatThrownBy(
            () ->
                cache.run(
                    "t",
                    "k",
                    "h",
                    () -> {
                      throw new ApiException(503, "x", "x", "x");
                    }))
        .isInstanceOf(ApiException.class);
    assertThat(cache.run("t", "k", "h", this::work).status()).isEqualTo(201);
  }
}
