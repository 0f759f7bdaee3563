package dev.keel.json;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonWriterTest {

  @Test
  void escapesEveryCharacterJsonForbidsAndCopiesTheRestAsIs() {
    String s = "plain \"q\" \\ \n\r\t\b\f \u0001\u001f \u2028\u2029 é€😀 end";
    String text = JsonValue.of(s).toString();
    assertThat(text)
        .isEqualTo(
            "\"plain \\\"q\\\" \\\\ \\n\\r\\t\\b\\f \\u0001\\u001f \\u2028\\u2029 é€😀 end\"");
    assertThat(JsonParser.parse(text, JsonLimits.TRUSTED)).isEqualTo(JsonValue.of(s));
    assertThat(JsonValue.of("").toString()).isEqualTo("\"\"");
    assertThat(JsonValue.of("\n").toString()).isEqualTo("\"\\n\"");
    assertThat(JsonValue.of("ab\"").toString()).isEqualTo("\"ab\\\"\"");
  }

  @Test
  void keysComeOutSortedWhateverOrderTheyWereAddedIn() {
    Map<String, JsonValue> m = new LinkedHashMap<>();
    m.put("b", JsonValue.of(1));
    m.put("a", JsonValue.of(2));
    m.put("c", JsonValue.object("z", 1, "y", 2));
    assertThat(new JsonValue.JsonObject(m).toString())
        .isEqualTo("{\"a\":2,\"b\":1,\"c\":{\"y\":2,\"z\":1}}");
    assertThat(JsonValue.object("a", 1, "b", 2).toString()).isEqualTo("{\"a\":1,\"b\":2}");
  }

  @Test
  void numbersAreWrittenPlainWithoutTrailingZerosOrExponents() {
    assertThat(new JsonValue.JsonNumber(new BigDecimal("1.500")).toString()).isEqualTo("1.5");
    assertThat(new JsonValue.JsonNumber(new BigDecimal("1E+3")).toString()).isEqualTo("1000");
    assertThat(new JsonValue.JsonNumber(new BigDecimal("120")).toString()).isEqualTo("120");
    assertThat(new JsonValue.JsonNumber(new BigDecimal("-7")).toString()).isEqualTo("-7");
    assertThat(new JsonValue.JsonNumber(new BigDecimal("0.000")).toString()).isEqualTo("0");
    assertThat(new JsonValue.JsonNumber(new BigDecimal("2.50E-7")).toString())
        .isEqualTo("0.00000025");
  }
}
