package dev.keel.tools.java;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolResult;
import dev.keel.tools.Availability;
import dev.keel.tools.ToolContract;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class JavaToolTest {
  enum Unit {
    CELSIUS,
    FAHRENHEIT
  }

  record Place(String city, Optional<String> country) {}

  record Forecast(Place place, int days, Unit unit, List<String> fields) {
    Forecast {
      if (days > 14) {
        throw new IllegalArgumentException("days must be <= 14");
      }
    }
  }

  private static final ToolContract CONTRACT =
      ToolContract.builder("weather.forecast").availability(Availability.EVERYONE).build();

  private static ToolInvocation call(String json) {
    return new ToolInvocation("acme", "run_1", "c1", "k1", (JsonObject) JsonParser.parse(json), 1);
  }

  @Test
  void recordsBindTypedArguments() throws Exception {
    JavaTool tool =
        JavaTool.typed(
            CONTRACT,
            Forecast.class,
            (f, inv) ->
                JsonValue.object(
                    "city", f.place().city(),
                    "country", f.place().country().orElse("?"),
                    "days", f.days(),
                    "unit", f.unit().name(),
                    "fields", f.fields()));
    ToolResult r =
        tool.invoke(
            call(
                "{\"place\":{\"city\":\"Bonn\"},\"days\":3,\"unit\":\"celsius\",\"fields\":[\"rain\"]}"));
    assertThat(r)
        .isEqualTo(
            new ToolResult.Success(
                JsonValue.object(
                    "city",
                    "Bonn",
                    "country",
                    "?",
                    "days",
                    3,
                    "unit",
                    "CELSIUS",
                    "fields",
                    List.of("rain"))));
  }

  @Test
  void bindingErrorsNameThePointer() throws Exception {
    JavaTool tool = JavaTool.typed(CONTRACT, Forecast.class, (f, inv) -> JsonValue.NULL);
    assertThat(
            tool.invoke(call("{\"place\":{\"city\":1},\"days\":3,\"unit\":\"x\",\"fields\":[]}")))
        .isInstanceOfSatisfying(
            ToolResult.Failure.class, f -> assertThat(f.message()).contains("/place/city"));
    assertThat(
            tool.invoke(
                call(
                    "{\"place\":{\"city\":\"a\"},\"days\":30,\"unit\":\"celsius\",\"fields\":[]}")))
        .isInstanceOfSatisfying(
            ToolResult.Failure.class, f -> assertThat(f.message()).contains("days must be <= 14"));
  }

  record Unsupported(Thread t) {}

  @Test
  void unsupportedComponentTypesFailAtConstruction() {
    assertThatThrownBy(
            () -> JavaTool.typed(CONTRACT, Unsupported.class, (u, inv) -> JsonValue.NULL))
        .hasMessageContaining("Unsupported.t");
  }
}
