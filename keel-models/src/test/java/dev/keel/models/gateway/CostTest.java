package dev.keel.models.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.model.Message;
import dev.keel.model.ModelRequest;
import dev.keel.model.Pricing;
import dev.keel.model.TokenUsage;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CostTest {

  @Test
  void priceTableReadsFromConfigWithItsVersion() {
    PriceTable t =
        PriceTable.fromConfig(
            Map.of(
                "version",
                "2026-11-01",
                "gpt-4o-mini.input",
                "150_000",
                "gpt-4o-mini.output",
                "600000",
                "gpt-4o-mini.cached",
                "75000"));
    assertThat(t.version()).isEqualTo("2026-11-01");
    assertThat(t.pricing("gpt-4o-mini")).isEqualTo(new Pricing(150_000, 600_000, 75_000));
    assertThat(t.pricing("unlisted")).isEqualTo(Pricing.FREE);
    assertThat(t.pricing("gpt-4o-mini").costMicros(new TokenUsage(1_000_000, 1_000_000, 0, 0)))
        .isEqualTo(750_000);
  }

  @Test
  void badPriceNamesItsKey() {
    assertThatThrownBy(() -> PriceTable.fromConfig(Map.of("m.input", "cheap")))
        .hasMessageContaining("price 'm.input'");
    assertThatThrownBy(() -> PriceTable.fromConfig(Map.of("m.inptu", "1")))
        .hasMessageContaining("must end in .input, .output or .cached");
  }

  @Test
  void tokenCounterUsesARealTokenizerAndBoundsFromAbove() {
    TokenCounter counter = new TokenCounter();
    assertThat(counter.count("hello world")).isEqualTo(2);
    ModelRequest r =
        new ModelRequest(
            "m",
            List.of(new Message.System("You are terse."), new Message.User("hello world")),
            List.of(),
            Optional.empty(),
            10);
    long bound = counter.inputUpperBound(r);
    long exact = (long) counter.count("You are terse.") + counter.count("hello world");
    assertThat(bound).isGreaterThan(exact).isLessThan(exact * 3 + 20);
  }
}
