package dev.keel.models.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.model.ModelException;
import dev.keel.model.ModelException.Kind;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HttpEdgeTest {
  private static final Instant NOW = Instant.parse("2026-11-22T10:00:00Z");

  private static HttpHeaders headers(Map<String, List<String>> map) {
    return HttpHeaders.of(map, (a, b) -> true);
  }

  @Test
  void retryAfterReadsSecondsDatesAndMillis() {
    assertThat(RetryAfter.parse("7", NOW)).contains(Duration.ofSeconds(7));
    assertThat(RetryAfter.parse("0.5", NOW)).contains(Duration.ofMillis(500));
    assertThat(RetryAfter.parse("Sun, 22 Nov 2026 10:00:30 GMT", NOW))
        .contains(Duration.ofSeconds(30));
    assertThat(RetryAfter.parse("Sun, 22 Nov 2026 09:00:00 GMT", NOW)).contains(Duration.ZERO);
    assertThat(RetryAfter.parse("soon", NOW)).isEmpty();
    assertThat(RetryAfter.parse("999999", NOW)).contains(Duration.ofHours(1));
    assertThat(
            RetryAfter.from(
                headers(Map.of("retry-after-ms", List.of("250"), "retry-after", List.of("1"))),
                () -> NOW))
        .contains(Duration.ofMillis(250));
    assertThat(RetryAfter.from(headers(Map.of()), () -> NOW)).isEmpty();
  }

  @Test
  void statusAndBodyDecideTheKind() {
    Optional<Duration> none = Optional.empty();
    assertThat(
            FailureClassifier.classify("p", 429, "{}", Optional.of(Duration.ofSeconds(3)))
                .retryAfter())
        .contains(Duration.ofSeconds(3));
    assertThat(FailureClassifier.classify("p", 529, "overloaded", none).kind())
        .isEqualTo(Kind.OVERLOADED);
    assertThat(FailureClassifier.classify("p", 500, "boom", none).kind())
        .isEqualTo(Kind.OVERLOADED);
    assertThat(FailureClassifier.classify("p", 403, "", none).kind())
        .isEqualTo(Kind.AUTHENTICATION);
    assertThat(FailureClassifier.classify("p", 408, "", none).kind()).isEqualTo(Kind.TIMEOUT);
    assertThat(FailureClassifier.classify("p", 413, "", none).kind())
        .isEqualTo(Kind.CONTEXT_TOO_LONG);
    assertThat(
            FailureClassifier.classify("p", 400, "{\"code\":\"context_length_exceeded\"}", none)
                .kind())
        .isEqualTo(Kind.CONTEXT_TOO_LONG);
    assertThat(FailureClassifier.classify("p", 400, "ThrottlingException: slow down", none).kind())
        .isEqualTo(Kind.RATE_LIMITED);
    assertThat(FailureClassifier.classify("p", 400, "missing field", none).kind())
        .isEqualTo(Kind.INVALID_REQUEST);
    assertThat(FailureClassifier.classifyStreamError("p", "{\"type\":\"overloaded_error\"}").kind())
        .isEqualTo(Kind.OVERLOADED);
  }

  @Test
  void keysInErrorBodiesAreRedacted() {
    ModelException e =
        FailureClassifier.classify(
            "openai",
            401,
            "Incorrect API key provided: sk-proj-abcdefghijklmnop.",
            Optional.empty());
    assertThat(e.getMessage()).doesNotContain("abcdefghijklmnop").contains("[redacted]");
  }

  @Test
  void sseReaderJoinsDataLinesSkipsCommentsAndDropsAnUnfinishedEvent() throws IOException {
    String stream =
        ": keep-alive\r\nevent: a\r\ndata: one\r\ndata: two\r\n\r\ndata:three\n\nevent: b\ndata: cut off";
    List<SseReader.Event> events = new ArrayList<>();
    SseReader.read(new ByteArrayInputStream(stream.getBytes(StandardCharsets.UTF_8)), events::add);
    assertThat(events)
        .containsExactly(
            new SseReader.Event("a", "one\ntwo"), new SseReader.Event("message", "three"));
  }

  @Test
  void secretsComeFromEnvironmentOrFileAndNeverPrint(@TempDir Path dir) throws IOException {
    SecretRef env =
        new SecretRef.Env("OPENAI_API_KEY", Map.of("OPENAI_API_KEY", " sk-live-secret \n"));
    assertThat(env.resolve()).contains("sk-live-secret");
    assertThat(env.toString()).doesNotContain("sk-live-secret");
    Path whole = Files.writeString(dir.resolve("key"), "sk-file-secret\n");
    Path props =
        Files.writeString(dir.resolve("secrets.properties"), "openai=sk-a\nanthropic = sk-b\n");
    assertThat(SecretRef.parse("file:" + whole).resolve()).contains("sk-file-secret");
    assertThat(SecretRef.parse("file:" + props + "#anthropic").resolve()).contains("sk-b");
    assertThat(SecretRef.parse("file:" + dir.resolve("missing")).resolve()).isEmpty();
    assertThat(new SecretRef.Fixed("sk-x").toString()).doesNotContain("sk-x");
    assertThat(SecretRef.parse("none").resolve()).isEmpty();
    assertThatThrownBy(() -> SecretRef.parse("vault:x")).hasMessageContaining("env:NAME");
  }

  @Test
  void missingKeyFailsAsAuthenticationNamingTheSource() {
    HttpEndpoint e =
        HttpEndpoint.of(
            "openai", "http://127.0.0.1:1", new SecretRef.Env("NO_SUCH_KEY_VAR", Map.of()));
    assertThatThrownBy(e::requireKey)
        .isInstanceOfSatisfying(
            ModelException.class, x -> assertThat(x.kind()).isEqualTo(Kind.AUTHENTICATION))
        .hasMessageContaining("environment variable NO_SUCH_KEY_VAR");
    assertThat(e.resolve("/chat/completions").toString())
        .isEqualTo("http://127.0.0.1:1/chat/completions");
  }
}
