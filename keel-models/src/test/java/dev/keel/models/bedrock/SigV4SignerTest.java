package dev.keel.models.bedrock;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The signer against the examples in AWS's Signature Version 4 documentation. */
class SigV4SignerTest {
  private static final SigV4Signer.Credentials EXAMPLE =
      new SigV4Signer.Credentials(
          "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", Optional.empty());

  @Test
  void documentedIamListUsersExample() {
    Map<String, String> added =
        new SigV4Signer("us-east-1", "iam")
            .sign(
                "GET",
                URI.create("https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08"),
                Map.of("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
                new byte[0],
                Instant.parse("2015-08-30T12:36:00Z"),
                EXAMPLE);
    assertThat(added.get("X-Amz-Date")).isEqualTo("20150830T123600Z");
    assertThat(added.get("Authorization"))
        .isEqualTo(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date, "
                + "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
  }

  @Test
  void documentedSigningKeyDerivation() {
    byte[] key =
        SigV4Signer.signingKey(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam");
    assertThat(HexFormat.of().formatHex(key))
        .isEqualTo("f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
  }

  @Test
  void pathSegmentsAreEncodedAgainAndSessionTokenIsSigned() {
    assertThat(SigV4Signer.canonicalUri("/model/anthropic.claude-v2%3A1/converse-stream"))
        .isEqualTo("/model/anthropic.claude-v2%253A1/converse-stream");
    SigV4Signer.Credentials withToken =
        new SigV4Signer.Credentials("AKID", "wJalrTopSecretValue", Optional.of("session-token"));
    Map<String, String> added =
        new SigV4Signer("eu-west-1", "bedrock")
            .sign(
                "POST",
                URI.create("http://127.0.0.1:8080/model/m/converse"),
                Map.of(),
                "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                Instant.EPOCH,
                withToken);
    assertThat(added.get("X-Amz-Security-Token")).isEqualTo("session-token");
    assertThat(added.get("Authorization"))
        .contains("SignedHeaders=host;x-amz-date;x-amz-security-token");
    assertThat(withToken.toString())
        .doesNotContain("wJalrTopSecretValue")
        .doesNotContain("session-token");
  }
}
