package dev.keel.tools.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonSchemaTest {
  private static JsonObject json(String s) {
    return (JsonObject) JsonParser.parse(s);
  }

  @Test
  void invalidSchemaIsRefusedWithItsPointer() {
    assertThatThrownBy(
            () -> JsonSchema.compile("tool x inputSchema", json("{\"type\":\"objekt\"}")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tool x inputSchema")
        .hasMessageContaining("/type");
  }

  @Test
  void otherDialectIsRefused() {
    assertThatThrownBy(
            () ->
                JsonSchema.compile(
                    "s",
                    json(
                        "{\"$schema\":\"http://json-schema.org/draft-04/schema#\",\"type\":\"object\"}")))
        .hasMessageContaining("2020-12");
  }

  @Test
  void remoteRefIsNeverFetched() {
    assertThatThrownBy(
            () -> JsonSchema.compile("s", json("{\"$ref\":\"http://127.0.0.1:1/never.json\"}")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void violationsCarryJsonPointers() {
    JsonSchema s =
        JsonSchema.compile(
            "s",
            json(
                """
                {"type":"object","properties":{
                  "limit":{"type":"integer","minimum":1},
                  "a/b":{"type":"string"},
                  "tags":{"type":"array","items":{"type":"string"}}},
                 "required":["limit"],"additionalProperties":false}
                """));
    List<Violation> v = s.validate(json("{\"limit\":0,\"a/b\":3,\"tags\":[\"x\",4],\"extra\":1}"));
    assertThat(v).extracting(Violation::pointer).contains("/limit", "/a~1b", "/tags/1", "/extra");
    assertThat(s.validate(json("{}"))).extracting(Violation::pointer).containsExactly("/limit");
    assertThat(s.validate(json("{\"limit\":2}"))).isEmpty();
  }
}
