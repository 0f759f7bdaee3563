package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The benchmark's command line: soak mode and the errors bad values get. */
class OptionsTest {
  @Test
  void soakTakesAWorkloadAndSeconds() {
    Options o =
        Options.parse(
            new String[] {
              "--store", "sqlite", "--mode", "soak", "--workload", "1000x10", "--seconds", "30"
            });
    assertThat(o.soak()).contains(new Options.Soak(1000, 10, 30));
    assertThat(Options.parse(new String[] {"--mode", "throughput"}).soak()).isEmpty();
  }

  @Test
  void badNumbersAreNamedWithTheirFlag() {
    assertThatThrownBy(() -> Options.parse(new String[] {"--seconds", "abc"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--seconds must be a whole number, got 'abc'");
    assertThatThrownBy(() -> Options.parse(new String[] {"--heap-runs", "1e5"}))
        .hasMessageContaining("--heap-runs must be a whole number, got '1e5'");
    for (String workload : new String[] {"200", "0x10", "1x", "x1", "1x2x3", "9999999999x1"}) {
      assertThatThrownBy(
              () -> Options.parse(new String[] {"--mode", "soak", "--workload", workload}))
          .as(workload)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("--workload must be RUNSxSTEPS")
          .hasMessageContaining(workload);
    }
    assertThatThrownBy(() -> Options.parse(new String[] {"--mode", "soak", "--seconds", "0"}))
        .hasMessageContaining("--seconds positive");
  }
}
