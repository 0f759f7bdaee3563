package dev.keel.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.json.JsonValue.JsonObject;
import org.junit.jupiter.api.Test;

class JsonParserTest {
  private static JsonParseException fail(String text) {
    try {
      JsonParser.parse(text, JsonLimits.UNTRUSTED);
    } catch (JsonParseException e) {
      return e;
    }
    throw new AssertionError("parsed: " + text);
  }

  @Test
  void canonicalFormSortsKeysAndKeepsNumbersExact() {
    JsonValue v = JsonParser.parse("{ \"b\": [1, 2.50, -0.1e2], \"a\": \"\\u00e9\\n\" }");
    assertThat(v.toString()).isEqualTo("{\"a\":\"é\\n\",\"b\":[1,2.5,-10]}");
    assertThat(JsonParser.parse(v.toString())).isEqualTo(v);
  }

  @Test
  void duplicateKeysAreRejectedWithTheirPointer() {
    JsonParseException e = fail("{\"a\":{\"x\":1,\"x\":2}}");
    assertThat(e.pointer()).isEqualTo("/a/x");
    assertThat(e.getMessage()).contains("duplicate key 'x'");
  }

  @Test
  void deepNestingFailsFastAtTheLimit() {
    String deep = "[".repeat(100_000) + "]".repeat(100_000);
    JsonParseException e = fail(deep);
    assertThat(e.limitExceeded()).isTrue();
    assertThat(e.getMessage()).contains("nesting deeper than 64");
  }

  @Test
  void hugeNumbersAndNonJsonNumbersAreRejected() {
    assertThat(fail("{\"n\":" + "9".repeat(1000) + "}").limitExceeded()).isTrue();
    assertThat(fail("{\"n\":1e999999999}").getMessage()).contains("exponent");
    assertThat(fail("[NaN]").getMessage()).contains("unexpected character 'N'");
    assertThat(fail("[01]").getMessage()).contains("expected ',' or ']'");
  }

  @Test
  void nulAndLoneSurrogatesAreRejectedInUntrustedText() {
    assertThat(fail("{\"s\":\"a\\u0000b\"}").getMessage()).contains("NUL").contains("/s");
    assertThat(fail("[\"\\ud800\"]").getMessage()).contains("lone surrogate");
    assertThat(fail("[\"\\udc00x\"]").getMessage()).contains("lone surrogate");
    assertThat(JsonParser.parse("[\"\\ud83d\\ude00\"]", JsonLimits.UNTRUSTED).toString())
        .isEqualTo("[\"😀\"]");
  }

  @Test
  void errorsNameLineAndColumn() {
    JsonParseException e = fail("{\n  \"a\": tru\n}");
    assertThat(e.line()).isEqualTo(2);
    assertThat(e.getMessage()).contains("line 2");
  }

  @Test
  void trailingTextAndControlCharactersAreRejected() {
    assertThat(fail("{} {}").getMessage()).contains("after the JSON value");
    assertThat(fail("[\"a\tb\"]").getMessage()).contains("control character");
    assertThat(fail("").getMessage()).contains("end of input");
  }

  @Test
  void objectHelpersReadTypedMembers() {
    JsonObject o = JsonParser.parseObject("{\"goal\":\"x\",\"n\":3}", JsonLimits.UNTRUSTED);
    assertThat(o.string("goal")).contains("x");
    assertThat(o.string("n")).isEmpty();
    assertThatThrownBy(() -> JsonParser.parseObject("[1]", JsonLimits.UNTRUSTED))
        .hasMessageContaining("expected a JSON object");
  }
}
