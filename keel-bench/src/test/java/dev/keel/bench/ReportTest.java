package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class ReportTest {

  @Test
  void everyTableRendersWithFiguresOfEveryKind() {
    ObservedRunStore.Counts counts = new ObservedRunStore.Counts(20, 45, 120, 3, 20, 1);
    KeelBench.Work work =
        new KeelBench.Work(
            "20 x 50",
            1000,
            20,
            counts,
            Optional.of(new DriverCalls.Calls(150, 4.2)),
            Optional.of(new DriverCalls.Calls(9000, 0.1)),
            1000,
            OptionalLong.of(700),
            3,
            1_500_000_000L);
    KeelBench.StoreFigures sqlite =
        new KeelBench.StoreFigures(
            "sqlite",
            "SQLite",
            Optional.of(new KeelBench.FloorFigures(List.of(0.12, 0.14), List.of(7000.0))),
            Optional.of(
                new KeelBench.KeelFigures(
                    List.of(0.3), List.of(2000.0), List.of(9000.0), List.of(work))),
            List.of());
    KeelBench.StoreFigures broken =
        new KeelBench.StoreFigures(
            "postgres", "postgres", Optional.empty(), Optional.empty(), List.of("not measured"));
    HeapProbe.Result heap =
        new HeapProbe.Result(
            "sqlite", 1000, 8_000_000, 8_100_000, 2_000_000_000L, OptionalLong.of(5_000_000), 0);

    Report report =
        new Report(
            "2026-01-01T00:00:00Z",
            "1.00 1.00 1.00",
            "2.00 2.00 2.00",
            Options.parse(new String[] {"--quick"}),
            KeelBench.Sizes.QUICK,
            List.of(sqlite, broken),
            List.of(heap),
            List.of());

    assertThat(report.text())
        .contains("SQLite", "2.31x", "1.29x", "0.15", "1.500", "100")
        .contains("postgres: not measured");
    assertThat(report.markdown()).startsWith("# Keel bench results").contains("| SQLite |");
  }
}
