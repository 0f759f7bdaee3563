package dev.keel.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir Path dir;

  Path yaml(String text) throws Exception {
    Path f = dir.resolve("keel.yaml");
    Files.writeString(f, text);
    return f;
  }

  static String problems(Runnable r) {
    try {
      r.run();
      throw new AssertionError("expected a ConfigException");
    } catch (ConfigException x) {
      return x.getMessage();
    }
  }

  @Test
  void noConfigurationGivesSqliteInTheDataFolderOnLoopback8080() {
    KeelConfig c = ConfigLoader.load(Optional.empty(), Map.of("KEEL_HOME", dir.toString()));
    assertThat(c.storeUrl()).isEqualTo("jdbc:sqlite:" + dir.toAbsolutePath().resolve("keel.db"));
    assertThat(c.serverHost()).isEqualTo("127.0.0.1");
    assertThat(c.serverPort()).isEqualTo(8080);
    assertThat(c.workers()).isEqualTo(1);
    assertThat(c.leaseTime()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void yamlIsReadAndEnvironmentOverridesIt() throws Exception {
    Path f =
        yaml(
            "server:\n  port: 9000\n  host: 0.0.0.0\nstore:\n  url: jdbc:postgresql://db/keel\n"
                + "engine:\n  lease-time: 10s\n  workers: 2\ntools:\n  approval-timeout: 2h\n");
    KeelConfig c =
        ConfigLoader.load(Optional.of(f), Map.of("KEEL_STORE_URL", "jdbc:postgresql://other/k"));
    assertThat(c.serverPort()).isEqualTo(9000);
    assertThat(c.serverHost()).isEqualTo("0.0.0.0");
    assertThat(c.storeUrl()).isEqualTo("jdbc:postgresql://other/k");
    assertThat(c.leaseTime()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.approvalTimeout()).isEqualTo(Duration.ofHours(2));
    assertThat(c.workers()).isEqualTo(2);
    assertThat(ConfigLoader.envName("limits.key-rate")).isEqualTo("KEEL_LIMITS_KEY_RATE");
  }

  @Test
  void everyProblemNamesItsKeyAndSource() throws Exception {
    Path f = yaml("server:\n  port: 99999\nstore:\n  ulr: x\nengine:\n  lease-time: soon\n");
    String msg =
        problems(
            () ->
                ConfigLoader.load(
                    Optional.of(f),
                    Map.of(
                        "KEEL_ENGINE_WORKERS", "many",
                        "KEEL_TELEMETRY_OTLP_METRICS_INTERVAL", "0s")));
    assertThat(msg)
        .contains(
            "telemetry.otlp_metrics_interval (from environment variable"
                + " KEEL_TELEMETRY_OTLP_METRICS_INTERVAL) must be positive")
        .contains("server.port (from " + f + ") must be between 0 and 65535, got '99999'")
        .contains("unknown key 'store.ulr'")
        .contains("engine.lease-time (from " + f + ") must be a duration")
        .contains("engine.workers (from environment variable KEEL_ENGINE_WORKERS)");
  }

  @Test
  void badYamlDuplicateKeysAndMissingFilesAreReported() throws Exception {
    assertThat(problems(() -> ConfigLoader.load(Optional.of(dir.resolve("none.yaml")), Map.of())))
        .contains("does not exist");
    Path dup = yaml("server:\n  port: 1\n  port: 2\n");
    assertThat(problems(() -> ConfigLoader.load(Optional.of(dup), Map.of())))
        .contains("not valid YAML");
    Path list = yaml("server:\n  port: [1, 2]\n");
    assertThat(problems(() -> ConfigLoader.load(Optional.of(list), Map.of())))
        .contains("server.port");
    assertThat(
            problems(
                () ->
                    ConfigLoader.load(Optional.empty(), Map.of("KEEL_STORE_URL", "mysql://nope"))))
        .contains("store.url");
  }

  @Test
  void secretsAreReferencesAndLooseSecretFilesAreRefused() throws Exception {
    assertThat(
            problems(
                () ->
                    ConfigLoader.load(Optional.empty(), Map.of("KEEL_STORE_PASSWORD", "hunter2"))))
        .contains("store.password")
        .contains("must be a reference")
        .doesNotContain("hunter2'");
    assertThat(
            problems(
                () ->
                    ConfigLoader.load(
                        Optional.empty(), Map.of("KEEL_STORE_PASSWORD", "env:PG_PASS"))))
        .contains("PG_PASS, which is not set");
    assertThat(
            ConfigLoader.load(
                    Optional.empty(),
                    Map.of("KEEL_STORE_PASSWORD", "env:PG_PASS", "PG_PASS", "s3cret"))
                .storePassword())
        .isEqualTo("s3cret");
    Path secret = dir.resolve("pg.pass");
    Files.writeString(secret, "from-file\n");
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-r--r--"));
    assertThat(
            problems(
                () ->
                    ConfigLoader.load(
                        Optional.empty(), Map.of("KEEL_STORE_PASSWORD", "file:" + secret))))
        .contains("group or others can read")
        .contains("chmod 600 " + secret);
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
    KeelConfig c =
        ConfigLoader.load(Optional.empty(), Map.of("KEEL_STORE_PASSWORD", "file:" + secret));
    assertThat(c.storePassword()).isEqualTo("from-file");
    assertThat(c.toString()).doesNotContain("from-file");
  }

  @Test
  void serverAndEngineSettingsAreDerived() {
    KeelConfig c =
        ConfigLoader.load(
            Optional.empty(),
            Map.of(
                "KEEL_LIMITS_KEY_RATE", "5",
                "KEEL_LIMITS_STREAMS_PER_KEY", "3",
                "KEEL_ENGINE_MAX_RUNS", "7"));
    assertThat(c.server().keyRate()).isEqualTo(5);
    assertThat(c.server().streamsPerKey()).isEqualTo(3);
    assertThat(c.engine().maxConcurrentRuns()).isEqualTo(7);
    assertThatThrownBy(
            () -> ConfigLoader.load(Optional.empty(), Map.of("KEEL_LIMITS_KEY_RATE", "-1")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("limits.key-rate");
  }

  @Test
  void webhookAndQuotaKeysAreReadAndCheckedAndTheSecretIsAReference() throws Exception {
    Path f =
        yaml(
            "webhooks:\n  secret: env:HOOK_SECRET\n  allow-private: true\n  backoff: 250ms\n"
                + "  max-attempts: 3\nquotas:\n  runs-per-day: 1000\n"
                + "  concurrent-runs-per-user: 4\n  queue-depth: 500\n");
    KeelConfig c = ConfigLoader.load(Optional.of(f), Map.of("HOOK_SECRET", "s3cret"));
    assertThat(c.policy().webhookSecret()).isEqualTo("s3cret");
    assertThat(c.policy().webhookAllowPrivate()).isTrue();
    assertThat(c.policy().webhookBackoff()).isEqualTo(Duration.ofMillis(250));
    assertThat(c.policy().webhookMaxAttempts()).isEqualTo(3);
    assertThat(c.policy().runsPerDay()).isEqualTo(1000);
    assertThat(c.policy().concurrentRunsPerUser()).isEqualTo(4);
    assertThat(c.policy().queueDepth()).isEqualTo(500);
    String p =
        problems(
            () ->
                ConfigLoader.load(
                    Optional.empty(),
                    Map.of(
                        "KEEL_WEBHOOKS_SECRET", "literal-secret",
                        "KEEL_WEBHOOKS_ALLOW_PRIVATE", "yes",
                        "KEEL_QUOTAS_RUNS_PER_DAY", "-1")));
    assertThat(p)
        .contains("webhooks.secret")
        .contains("must be a reference")
        .contains("webhooks.allow-private")
        .contains("must be true or false")
        .contains("quotas.runs-per-day");
  }

  @Test
  void theApplicationRoleIsForPostgresDiffersFromTheOwnerAndHasAReferencedPassword() {
    String pg = "jdbc:postgresql://db/keel";
    KeelConfig c =
        ConfigLoader.load(
            Optional.empty(),
            Map.of(
                "KEEL_STORE_URL", pg,
                "KEEL_STORE_USER", "keel_owner",
                "KEEL_STORE_APP_USER", "keel_api",
                "KEEL_STORE_APP_PASSWORD", "env:API_PASS",
                "API_PASS", "api-s3cret"));
    assertThat(c.storeAppUser()).isEqualTo("keel_api");
    assertThat(c.storeAppPassword()).isEqualTo("api-s3cret");
    assertThat(c.runtimeStoreUser()).isEqualTo("keel_api");
    assertThat(c.runtimeStorePassword()).isEqualTo("api-s3cret");
    assertThat(c.storeUser()).isEqualTo("keel_owner");
    assertThat(c.toString()).doesNotContain("api-s3cret");
    KeelConfig plain = ConfigLoader.load(Optional.empty(), Map.of("KEEL_STORE_USER", "keel"));
    assertThat(plain.storeAppUser()).isEmpty();
    assertThat(plain.runtimeStoreUser()).isEqualTo("keel");
    assertThat(
            problems(
                () ->
                    ConfigLoader.load(Optional.empty(), Map.of("KEEL_STORE_APP_USER", "keel_api"))))
        .contains("store.app-user")
        .contains("PostgreSQL only");
    assertThat(
            problems(
                () ->
                    ConfigLoader.load(
                        Optional.empty(),
                        Map.of(
                            "KEEL_STORE_URL", pg,
                            "KEEL_STORE_USER", "keel",
                            "KEEL_STORE_APP_USER", "keel"))))
        .contains("store.app-user")
        .contains("must differ from store.user");
    assertThat(
            problems(
                () ->
                    ConfigLoader.load(
                        Optional.empty(),
                        Map.of("KEEL_STORE_URL", pg, "KEEL_STORE_APP_PASSWORD", "hunter2"))))
        .contains("store.app-password");
  }
}
