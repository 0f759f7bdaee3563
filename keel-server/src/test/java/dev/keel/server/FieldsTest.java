package dev.keel.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.json.JsonLimits;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FieldsTest {

  static JsonObject parse(String s) {
    return JsonParser.parseObject(s, JsonLimits.UNTRUSTED);
  }

  @Test
  void collectsEveryProblemWithItsPointer() {
    Fields f =
        Fields.of(parse("{\"a\":1,\"b\":{\"c\":\"x\",\"d/e\":1},\"zz\":2}"), Set.of("a", "b"));
    f.requiredString("a", 10);
    f.nested("b", Set.of("c")).orElseThrow().integer("c", 0, 5);
    assertThatThrownBy(f::check)
        .isInstanceOfSatisfying(
            ApiException.class,
            x ->
                assertThat(x.errors())
                    .extracting(ApiException.FieldError::pointer)
                    .containsExactlyInAnyOrder("/zz", "/a", "/b/d~1e", "/b/c"));
  }

  @Test
  void emptyBodyReadsAsEmptyObjectAndOtherTypesAre415() {
    assertThat(RequestBody.object(new byte[0], "", JsonLimits.UNTRUSTED).members()).isEmpty();
    assertThatThrownBy(
            () ->
                RequestBody.object(
                    "{}".getBytes(StandardCharsets.UTF_8), "text/plain", JsonLimits.UNTRUSTED))
        .isInstanceOfSatisfying(ApiException.class, x -> assertThat(x.status()).isEqualTo(415));
    assertThat(
            RequestBody.object(
                    "{\"a\":1}".getBytes(StandardCharsets.UTF_8),
                    "application/json; charset=utf-8",
                    JsonLimits.UNTRUSTED)
                .members())
        .containsKey("a");
  }

  @Test
  void readsAreCutOffPastTheLimit() {
    byte[] big = new byte[5000];
    assertThatThrownBy(() -> RequestBody.read(new java.io.ByteArrayInputStream(big), -1, 4096))
        .isInstanceOfSatisfying(ApiException.class, x -> assertThat(x.status()).isEqualTo(413));
    assertThatThrownBy(
            () -> RequestBody.read(new java.io.ByteArrayInputStream(new byte[0]), 1 << 30, 4096))
        .isInstanceOfSatisfying(ApiException.class, x -> assertThat(x.status()).isEqualTo(413));
  }
}
