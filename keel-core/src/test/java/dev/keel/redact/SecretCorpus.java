package dev.keel.redact;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Secrets in the formats providers really issue, generated from a fixed seed so the corpus is the
 * same on every machine, plus published documentation examples. Each entry is the secret value and
 * the text it is embedded in.
 */
final class SecretCorpus {
  record Entry(String kind, String secret, String text) {}

  private static final String ALNUM =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  private static final String UPPER_NUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  private static final String B64URL = ALNUM + "-_";
  private static final String B64 = ALNUM + "+/";

  private SecretCorpus() {}

  static String rnd(Random r, String alphabet, int n) {
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return sb.toString();
  }

  static List<Entry> entries() {
    Random r = new Random(20261122L);
    List<Entry> out = new ArrayList<>();
    String[] wrappers = {
      "%s",
      "export KEY=%s",
      "{\"value\": \"%s\"}",
      "the key is %s, keep it safe",
      "curl -H 'X-Api-Key: %s' https://api.example.com",
      "config:\n  credential: '%s'\n",
    };
    for (int i = 0; i < 6; i++) {
      String w = wrappers[i % wrappers.length];
      add(out, w, "openai legacy", "sk-" + rnd(r, ALNUM, 48));
      add(
          out,
          w,
          "openai project",
          "sk-proj-" + rnd(r, B64URL, 124) + "T3BlbkFJ" + rnd(r, B64URL, 20));
      add(out, w, "openai service account", "sk-svcacct-" + rnd(r, B64URL, 60));
      add(out, w, "anthropic", "sk-ant-api03-" + rnd(r, B64URL, 93) + "AA");
      add(out, w, "anthropic admin", "sk-ant-admin01-" + rnd(r, B64URL, 80));
      add(out, w, "aws access key", "AKIA" + rnd(r, UPPER_NUM, 16));
      add(out, w, "aws session key", "ASIA" + rnd(r, UPPER_NUM, 16));
      add(out, w, "github classic", "ghp_" + rnd(r, ALNUM, 36));
      add(out, w, "github oauth", "gho_" + rnd(r, ALNUM, 36));
      add(out, w, "github app", "ghs_" + rnd(r, ALNUM, 36));
      add(
          out,
          w,
          "github fine-grained",
          "github_pat_" + rnd(r, ALNUM, 22) + "_" + rnd(r, ALNUM, 59));
      add(
          out,
          w,
          "slack bot",
          "xoxb-" + digits(r, 12) + "-" + digits(r, 13) + "-" + rnd(r, ALNUM, 24));
      add(
          out,
          w,
          "slack user",
          "xoxp-"
              + digits(r, 12)
              + "-"
              + digits(r, 12)
              + "-"
              + digits(r, 13)
              + "-"
              + rnd(r, "0123456789abcdef", 32));
      add(out, w, "stripe live secret", "sk_live_" + rnd(r, ALNUM, 99));
      add(out, w, "stripe test secret", "sk_test_" + rnd(r, ALNUM, 24));
      add(out, w, "stripe restricted", "rk_live_" + rnd(r, ALNUM, 24));
      add(out, w, "stripe webhook", "whsec_" + rnd(r, ALNUM, 32));
      add(out, w, "google api key", "AIza" + rnd(r, B64URL, 35));
      add(out, w, "google oauth", "ya29." + rnd(r, B64URL, 120));
      add(out, w, "google client secret", "GOCSPX-" + rnd(r, B64URL, 28));
      add(out, w, "jwt", jwt(r));
      add(out, w, "huggingface", "hf_" + rnd(r, ALNUM, 34));
      add(out, w, "gitlab", "glpat-" + rnd(r, B64URL, 20));
    }
    // Secrets whose shape is only recognisable from their context.
    for (int i = 0; i < 4; i++) {
      String aws = rnd(r, B64, 40);
      out.add(new Entry("aws secret key", aws, "aws_secret_access_key = " + aws));
      String pw = rnd(r, ALNUM, 10) + "!" + digits(r, 2);
      out.add(
          new Entry("password in url", pw, "postgresql://keel:" + pw + "@db.internal:5432/keel"));
      String pw2 = rnd(r, ALNUM, 14);
      out.add(
          new Entry(
              "password in connection string",
              pw2,
              "Server=tcp:sql.example.net,1433;Database=app;User ID=app;Password=" + pw2 + ";"));
      String bearer = rnd(r, B64URL, 40);
      out.add(new Entry("bearer token", bearer, "Authorization: Bearer " + bearer));
      String apiKey = rnd(r, "0123456789abcdef", 32);
      out.add(new Entry("api_key assignment", apiKey, "api_key=" + apiKey));
      String tok = rnd(r, ALNUM, 28);
      out.add(new Entry("json secret member", tok, "{\"client_secret\": \"" + tok + "\"}"));
      String q = rnd(r, B64URL, 30);
      out.add(
          new Entry(
              "secret query parameter", q, "GET https://maps.example.com/api?q=paris&key=" + q));
      String pwd = "Tr0ub4dor&3x" + digits(r, 3);
      out.add(new Entry("password assignment", pwd, "DB_PASSWORD=\"" + pwd + "\""));
      String pem = rnd(r, B64, 64) + "\n" + rnd(r, B64, 64) + "\n" + rnd(r, B64, 20) + "==";
      out.add(
          new Entry(
              "private key block",
              pem,
              "-----BEGIN "
                  + (i % 2 == 0 ? "RSA " : "OPENSSH ")
                  + "PRIVATE KEY-----\n"
                  + pem
                  + "\n-----END "
                  + (i % 2 == 0 ? "RSA " : "OPENSSH ")
                  + "PRIVATE KEY-----"));
      String hook = rnd(r, ALNUM, 24);
      out.add(
          new Entry(
              "slack webhook",
              hook,
              "https://hooks.slack.com/services/T"
                  + rnd(r, UPPER_NUM, 8)
                  + "/B"
                  + rnd(r, UPPER_NUM, 10)
                  + "/"
                  + hook));
    }
    // Published documentation examples.
    out.add(
        new Entry("aws docs", "AKIAIOSFODNN7EXAMPLE", "aws_access_key_id=AKIAIOSFODNN7EXAMPLE"));
    out.add(
        new Entry(
            "aws docs secret",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
    out.add(
        new Entry(
            "jwt.io example",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
            "token: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"));
    return out;
  }

  private static void add(List<Entry> out, String wrapper, String kind, String secret) {
    out.add(new Entry(kind, secret, wrapper.formatted(secret)));
  }

  private static String digits(Random r, int n) {
    return rnd(r, "0123456789", n);
  }

  private static String jwt(Random r) {
    String header = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9";
    return header + ".eyJ" + rnd(r, B64URL, 120) + "." + rnd(r, B64URL, 86);
  }
}
