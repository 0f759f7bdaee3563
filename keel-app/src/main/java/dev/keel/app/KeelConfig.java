package dev.keel.app;

import dev.keel.engine.EngineConfig;
import dev.keel.json.JsonLimits;
import dev.keel.server.ApiPolicy;
import dev.keel.server.ServerConfig;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The validated configuration of one Keel process. Every field has a key in the YAML file and an
 * environment override: {@code store.url} is {@code KEEL_STORE_URL}.
 *
 * @param home the data folder ({@code home}, {@code KEEL_HOME}): the SQLite file and the admin key
 * @param serverHost the interface to bind ({@code server.host})
 * @param serverPort the port ({@code server.port})
 * @param maxBodyBytes the largest request body ({@code server.max-body-bytes})
 * @param storeUrl the store ({@code store.url}); SQLite in {@code home} by default
 * @param storeUser the PostgreSQL user ({@code store.user})
 * @param storePassword the resolved PostgreSQL password ({@code store.password}, a reference)
 * @param workers run workers in this process ({@code engine.workers})
 * @param maxRuns runs one worker advances at once ({@code engine.max-runs})
 * @param leaseTime the lease of a run ({@code engine.lease-time})
 * @param approvalTimeout how long an approval waits ({@code tools.approval-timeout})
 * @param shutdownGrace how long a shutdown waits for runs to reach a step boundary ({@code
 *     shutdown.grace})
 * @param keyRate requests per second per key ({@code limits.key-rate})
 * @param keyBurst burst per key ({@code limits.key-burst})
 * @param tenantRate requests per second per tenant ({@code limits.tenant-rate})
 * @param tenantBurst burst per tenant ({@code limits.tenant-burst})
 * @param streamsPerKey open event streams per key ({@code limits.streams-per-key})
 * @param streamsTotal open event streams in total ({@code limits.streams-total})
 * @param sections the structured sections kept as JSON: {@code tools.http}, {@code tools.cli},
 *     {@code tools.secrets}, {@code tools.tenants} and {@code models}; and {@code store.app} (the
 *     PostgreSQL application role, see {@link #storeAppUser()})
 * @param otlpEndpoint where traces go over OTLP/HTTP ({@code telemetry.otlp_endpoint}, else {@code
 *     OTEL_EXPORTER_OTLP_ENDPOINT}); empty for no trace export
 * @param otlpMetricsInterval how often metrics are pushed to the same endpoint ({@code
 *     telemetry.otlp_metrics_interval})
 * @param redactPii whether logs, events, traces and errors also mask emails, card and phone numbers
 *     ({@code redaction.pii})
 * @param policy webhooks ({@code webhooks.*}) and quotas ({@code quotas.*})
 * @param probeInterval how often a served process starts a synthetic probe run ({@code
 *     probe.interval}); zero for none
 */
public record KeelConfig(
    Path home,
    String serverHost,
    int serverPort,
    int maxBodyBytes,
    String storeUrl,
    String storeUser,
    String storePassword,
    int workers,
    int maxRuns,
    Duration leaseTime,
    Duration approvalTimeout,
    Duration shutdownGrace,
    double keyRate,
    int keyBurst,
    double tenantRate,
    int tenantBurst,
    int streamsPerKey,
    int streamsTotal,
    dev.keel.json.JsonValue.JsonObject sections,
    String otlpEndpoint,
    Duration otlpMetricsInterval,
    boolean redactPii,
    ApiPolicy policy,
    Duration probeInterval) {

  /** A configuration with no structured sections, no trace export and secret-only redaction. */
  public KeelConfig(
      Path home,
      String serverHost,
      int serverPort,
      int maxBodyBytes,
      String storeUrl,
      String storeUser,
      String storePassword,
      int workers,
      int maxRuns,
      Duration leaseTime,
      Duration approvalTimeout,
      Duration shutdownGrace,
      double keyRate,
      int keyBurst,
      double tenantRate,
      int tenantBurst,
      int streamsPerKey,
      int streamsTotal) {
    this(
        home,
        serverHost,
        serverPort,
        maxBodyBytes,
        storeUrl,
        storeUser,
        storePassword,
        workers,
        maxRuns,
        leaseTime,
        approvalTimeout,
        shutdownGrace,
        keyRate,
        keyBurst,
        tenantRate,
        tenantBurst,
        streamsPerKey,
        streamsTotal,
        dev.keel.json.JsonValue.EMPTY_OBJECT,
        "",
        dev.keel.observe.Telemetry.DEFAULT_METRICS_STEP,
        false,
        ApiPolicy.DEFAULT,
        Duration.ZERO);
  }

  @Override
  public String toString() {
    return "KeelConfig[home="
        + home
        + ", server="
        + serverHost
        + ":"
        + serverPort
        + ", store.url="
        + redactedStoreUrl()
        + ", workers="
        + workers
        + "]";
  }

  /**
   * The PostgreSQL role Keel works as once the schema is migrated ({@code store.app-user}): a
   * member of {@code keel_app} that does not own the tables (docs/decisions/0043); empty to work as
   * {@link #storeUser()}.
   */
  public String storeAppUser() {
    return storeApp("user");
  }

  /** The resolved password of {@link #storeAppUser()} ({@code store.app-password}, a reference). */
  public String storeAppPassword() {
    return storeApp("password");
  }

  private String storeApp(String field) {
    return sections
        .get("store.app")
        .flatMap(a -> ((dev.keel.json.JsonValue.JsonObject) a).get(field))
        .map(v -> ((dev.keel.json.JsonValue.JsonString) v).value())
        .orElse("");
  }

  /** The user every runtime connection uses: the application role if set, else the owner. */
  public String runtimeStoreUser() {
    return storeAppUser().isEmpty() ? storeUser : storeAppUser();
  }

  /** The password of {@link #runtimeStoreUser()}. */
  public String runtimeStorePassword() {
    return storeAppUser().isEmpty() ? storePassword : storeAppPassword();
  }

  /** The store URL without any password parameter. */
  public String redactedStoreUrl() {
    return storeUrl.replaceAll("(?i)(password=)[^&]*", "$1***");
  }

  /** The server's part. */
  public ServerConfig server() {
    return new ServerConfig(
        serverHost,
        serverPort,
        maxBodyBytes,
        JsonLimits.UNTRUSTED,
        keyRate,
        keyBurst,
        tenantRate,
        tenantBurst,
        streamsPerKey,
        streamsTotal,
        Duration.ofSeconds(15),
        Duration.ofMillis(50));
  }

  /** The engine's part. */
  public EngineConfig engine() {
    EngineConfig d = EngineConfig.DEFAULT;
    return new EngineConfig(leaseTime, d.checkpointEvery(), approvalTimeout, maxRuns, d.idlePoll());
  }

  /** A copy on another port. */
  public KeelConfig withPort(int port) {
    return new KeelConfig(
        home,
        serverHost,
        port,
        maxBodyBytes,
        storeUrl,
        storeUser,
        storePassword,
        workers,
        maxRuns,
        leaseTime,
        approvalTimeout,
        shutdownGrace,
        keyRate,
        keyBurst,
        tenantRate,
        tenantBurst,
        streamsPerKey,
        streamsTotal,
        sections,
        otlpEndpoint,
        otlpMetricsInterval,
        redactPii,
        policy,
        probeInterval);
  }

  /** A copy exporting traces to {@code endpoint} (empty for none). */
  public KeelConfig withOtlpEndpoint(String endpoint) {
    return new KeelConfig(
        home,
        serverHost,
        serverPort,
        maxBodyBytes,
        storeUrl,
        storeUser,
        storePassword,
        workers,
        maxRuns,
        leaseTime,
        approvalTimeout,
        shutdownGrace,
        keyRate,
        keyBurst,
        tenantRate,
        tenantBurst,
        streamsPerKey,
        streamsTotal,
        sections,
        endpoint,
        otlpMetricsInterval,
        redactPii,
        policy,
        probeInterval);
  }

  /** A copy bound to another interface. */
  public KeelConfig withHost(String host) {
    return new KeelConfig(
        home,
        host,
        serverPort,
        maxBodyBytes,
        storeUrl,
        storeUser,
        storePassword,
        workers,
        maxRuns,
        leaseTime,
        approvalTimeout,
        shutdownGrace,
        keyRate,
        keyBurst,
        tenantRate,
        tenantBurst,
        streamsPerKey,
        streamsTotal,
        sections,
        otlpEndpoint,
        otlpMetricsInterval,
        redactPii,
        policy,
        probeInterval);
  }
}
