package dev.keel.models.gateway;

import dev.keel.model.FinishReason;
import dev.keel.model.ModelException;
import dev.keel.model.ModelException.Kind;
import dev.keel.model.ModelProvider;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.model.TokenUsage;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

/** A provider that answers, fails from a script, or fails at random from a seed. */
final class FakeProvider implements ModelProvider {
  private final String name;
  private final Queue<ModelException> script = new ArrayDeque<>();
  private final Random random;
  private final double failureRate;
  final AtomicInteger calls = new AtomicInteger();
  final AtomicInteger failures = new AtomicInteger();

  FakeProvider(String name) {
    this(name, 0, 0);
  }

  FakeProvider(String name, double failureRate, long seed) {
    this.name = name;
    this.failureRate = failureRate;
    this.random = new Random(seed);
  }

  FakeProvider failNext(ModelException... failures) {
    script.addAll(List.of(failures));
    return this;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public ModelResponse complete(ModelRequest request) {
    calls.incrementAndGet();
    ModelException scripted = script.poll();
    if (scripted != null) {
      failures.incrementAndGet();
      throw scripted;
    }
    if (failureRate > 0 && random.nextDouble() < failureRate) {
      failures.incrementAndGet();
      throw switch (random.nextInt(5)) {
        case 0 ->
            new ModelException(
                Kind.RATE_LIMITED, name + " 429", Optional.of(Duration.ofSeconds(1)), null);
        case 1 -> new ModelException(Kind.OVERLOADED, name + " HTTP 500");
        case 2 -> new ModelException(Kind.TIMEOUT, name + " timed out");
        case 3 -> new ModelException(Kind.MALFORMED_RESPONSE, name + " malformed JSON");
        default -> new ModelException(Kind.MALFORMED_RESPONSE, name + " truncated stream");
      };
    }
    return new ModelResponse(
        request.model(),
        "answer from " + name,
        List.of(),
        new TokenUsage(1000, 100, 200, 0),
        FinishReason.STOP);
  }
}
