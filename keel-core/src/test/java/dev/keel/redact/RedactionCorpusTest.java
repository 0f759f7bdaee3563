package dev.keel.redact;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** SC-03: a corpus of real-format secrets is fully masked; a benign corpus is left alone. */
class RedactionCorpusTest {

  @Test
  void everySecretInTheCorpusIsMasked() {
    List<SecretCorpus.Entry> corpus = SecretCorpus.entries();
    assertThat(corpus).hasSizeGreaterThanOrEqualTo(100);
    Redaction r = Redaction.secrets();
    List<String> missed = new ArrayList<>();
    for (SecretCorpus.Entry e : corpus) {
      String out = r.redact(e.text());
      if (leaks(out, e.secret())) {
        missed.add(e.kind() + ": " + out);
      }
    }
    System.out.printf(
        "redaction recall: %d/%d secrets masked%n", corpus.size() - missed.size(), corpus.size());
    assertThat(missed).isEmpty();
  }

  @Test
  void secretsAreMaskedWithPiiRulesOnToo() {
    Redaction r = Redaction.secretsAndPii();
    for (SecretCorpus.Entry e : SecretCorpus.entries()) {
      assertThat(leaks(r.redact(e.text()), e.secret())).as(e.kind()).isFalse();
    }
  }

  @Test
  void benignCorpusIsLeftAloneWithAtMostOnePercentFalsePositives() throws IOException {
    List<String> lines = benign();
    assertThat(lines).hasSizeGreaterThanOrEqualTo(200);
    for (Redaction r : List.of(Redaction.secrets(), Redaction.secretsAndPii())) {
      List<String> changed = new ArrayList<>();
      for (String line : lines) {
        String out = r.redact(line);
        if (!out.equals(line)) {
          changed.add(line + "  =>  " + out);
        }
      }
      double rate = (double) changed.size() / lines.size();
      System.out.printf(
          "redaction false positives (%d rules): %d/%d = %.2f%%%n%s%n",
          r.rules().size(), changed.size(), lines.size(), rate * 100, String.join("\n", changed));
      assertThat(rate).as("false positives: %s", changed).isLessThanOrEqualTo(0.01);
    }
  }

  @Test
  void personalDataIsMaskedWhenConfigured() {
    Redaction r = Redaction.builder().pii(true).pattern("employee id", "EMP-\\d{6}").build();
    String text =
        "mail jane.doe@example.co.uk or call +44 20 7946 0958 / (415) 555-0132, card 4111 1111 1111"
            + " 1111, staff EMP-123456";
    String out = r.redact(text);
    assertThat(out)
        .doesNotContain("jane.doe@example.co.uk", "7946 0958", "555-0132", "4111", "EMP-123456");
    assertThat(out).contains("mail [PII]");
    // A 16-digit number failing the Luhn check is not a card number.
    assertThat(r.redact("order 4111 1111 1111 1112")).contains("4111 1111 1111 1112");
    // Without PII rules, personal data passes.
    assertThat(Redaction.secrets().redact(text)).isEqualTo(text);
  }

  @Test
  void knownValuesAndSensitiveMembersAreMasked() {
    Redaction r = Redaction.builder().known(List.of("canary-7f3a9")).build();
    assertThat(r.redact("x canary-7f3a9 y")).isEqualTo("x [REDACTED] y");
    var json =
        dev.keel.json.JsonParser.parse(
            "{\"password\":\"pw\",\"token_count\":\"12\",\"input_tokens\":5,\"nested\":{\"api_key\":"
                + "\"abc\"}}");
    var out = (dev.keel.json.JsonValue.JsonObject) r.redact(json);
    assertThat(out.members().get("password")).isEqualTo(dev.keel.json.JsonValue.of("[REDACTED]"));
    assertThat(out.members().get("token_count")).isEqualTo(dev.keel.json.JsonValue.of("12"));
    assertThat(out.members().get("input_tokens")).isEqualTo(dev.keel.json.JsonValue.of(5));
    assertThat(((dev.keel.json.JsonValue.JsonObject) out.members().get("nested")).members())
        .containsEntry("api_key", dev.keel.json.JsonValue.of("[REDACTED]"));
  }

  @Test
  void aBadConfiguredPatternIsNamed() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> Redaction.builder().pattern("broken", "(["))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("redaction pattern 'broken'");
  }

  private static boolean leaks(String out, String secret) {
    // The whole secret, or any 12-character piece of it, left in the output is a leak.
    if (out.contains(secret)) {
      return true;
    }
    String flat = secret.replace("\n", "");
    for (int i = 0; i + 12 <= flat.length(); i += 4) {
      if (out.replace("\n", "").contains(flat.substring(i, i + 12))) {
        return true;
      }
    }
    return false;
  }

  private static List<String> benign() throws IOException {
    try (InputStream in = RedactionCorpusTest.class.getResourceAsStream("/redact/benign.txt")) {
      String all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      List<String> lines =
          new ArrayList<>(Arrays.stream(all.split("\n")).filter(l -> !l.isBlank()).toList());
      java.util.Random r = new java.util.Random(7);
      String hex = "0123456789abcdef";
      String b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      String crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
      for (int i = 0; i < 20; i++) {
        lines.add("request id " + new java.util.UUID(r.nextLong(), r.nextLong()));
        lines.add("sha256:" + SecretCorpus.rnd(r, hex, 64));
        lines.add("commit " + SecretCorpus.rnd(r, hex, 40) + " merged");
        lines.add("run_" + SecretCorpus.rnd(r, crockford, 26) + " completed in 3 steps");
        lines.add(
            java.time.Instant.ofEpochSecond(1_700_000_000L + r.nextInt(100_000_000)).toString()
                + " INFO run started");
        lines.add("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA" + SecretCorpus.rnd(r, b64, 120));
        lines.add("etag: \"" + SecretCorpus.rnd(r, hex, 32) + "\"");
      }
      return lines;
    }
  }
}
