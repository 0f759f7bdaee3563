package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class TableTest {

  private final Table table =
      new Table(List.of("store", "ms/step"))
          .add(List.of("SQLite", Table.number(0.1234, 3)))
          .add(List.of("PostgreSQL | 15", Table.number(Double.NaN, 3)));

  @Test
  void markdownHasOneRowPerLineAndEscapesPipes() {
    assertThat(table.markdown())
        .isEqualTo(
            "| store | ms/step |\n"
                + "|---|---|\n"
                + "| SQLite | 0.123 |\n"
                + "| PostgreSQL \\| 15 | n/a |\n");
  }

  @Test
  void alignedTextLeftAlignsLabelsAndRightAlignsFigures() {
    assertThat(table.aligned())
        .isEqualTo(
            "store            ms/step\n"
                + "---------------  -------\n"
                + "SQLite             0.123\n"
                + "PostgreSQL | 15      n/a\n");
  }

  @Test
  void rowOfTheWrongWidthIsRefused() {
    assertThatThrownBy(() -> table.add(List.of("only one")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("needs 2 cells, got 1");
  }

  @Test
  void ratiosAndMediansRead() {
    assertThat(Table.ratio(1.5)).isEqualTo("1.50x");
    assertThat(Table.ratio(Double.POSITIVE_INFINITY)).isEqualTo(Table.NONE);
    assertThat(Stats.median(List.of(3.0, 1.0, 2.0))).isEqualTo(2.0);
    assertThat(Stats.median(List.of(4.0, 1.0, 2.0, 3.0))).isEqualTo(2.5);
  }
}
