package dev.keel.app;

import dev.keel.engine.Engine;
import dev.keel.engine.IdSource;
import dev.keel.engine.RunWorker;
import dev.keel.run.FaultInjector;
import dev.keel.server.ApiServer;
import dev.keel.server.ServerServices;
import dev.keel.server.auth.ApiKeys;
import dev.keel.server.auth.IssuedKey;
import dev.keel.server.auth.KeyTokens;
import dev.keel.server.auth.Role;
import dev.keel.store.RunStore;
import dev.keel.store.jdbc.JdbcIdempotencyStore;
import dev.keel.store.jdbc.JdbcRunQuery;
import dev.keel.store.jdbc.JdbcWebhookStore;
import dev.keel.store.jdbc.PostgresConfig;
import dev.keel.store.jdbc.PostgresRunStore;
import dev.keel.store.jdbc.SideDb;
import dev.keel.store.jdbc.Stores;
import dev.keel.tool.ToolPolicy;
import dev.keel.tools.http.DnsResolver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Keel process wired from its configuration: the store, the engine with the demo catalog, the
 * API keys, in-process workers and (unless it is a worker-only process) the HTTP server. This is
 * the only place that names concrete adapters.
 */
public final class KeelRuntime implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KeelRuntime.class);
  private final KeelConfig cfg;
  private final RunStore store;
  private final ApiKeys keys;
  private final Engine engine;
  private final dev.keel.observe.Telemetry telemetry;
  private Optional<SyntheticProbe> probe = Optional.empty();
  private final List<RunWorker> workers = new ArrayList<>();
  private final Optional<ApiServer> server;
  private final Optional<String> firstAdminToken;
  private SideDb side;
  private @org.jspecify.annotations.Nullable ModelWiring models;
  private @org.jspecify.annotations.Nullable CostWiring costs;
  private @org.jspecify.annotations.Nullable AgentFolder agentFolder;
  private @org.jspecify.annotations.Nullable SideDb agentDb;

  private KeelRuntime(KeelConfig cfg, boolean withServer, int workerCount) {
    this.cfg = cfg;
    this.store = openStore(cfg);
    dev.keel.redact.Redaction redaction =
        cfg.redactPii()
            ? dev.keel.redact.Redaction.secretsAndPii()
            : dev.keel.redact.Redaction.secrets();
    if (cfg.storePassword().length() >= 6) {
      redaction.addSecret(cfg.storePassword());
    }
    if (cfg.storeAppPassword().length() >= 6) {
      redaction.addSecret(cfg.storeAppPassword());
    }
    dev.keel.observe.LogRedaction.install(redaction);
    // The OTLP exporter reports through java.util.logging; route it through logback (redacted).
    if (!org.slf4j.bridge.SLF4JBridgeHandler.isInstalled()) {
      org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
      org.slf4j.bridge.SLF4JBridgeHandler.install();
    }
    this.telemetry =
        dev.keel.observe.Telemetry.create(
            Optional.of(cfg.otlpEndpoint()).filter(e -> !e.isBlank()),
            cfg.otlpMetricsInterval(),
            "keel",
            redaction);
    try {
      this.keys =
          new JdbcApiKeys(cfg.storeUrl(), cfg.runtimeStoreUser(), cfg.runtimeStorePassword());
      ToolWiring tooling = ToolWiring.of(cfg, store, DnsResolver.system());
      ModelWiring modelWiring = ModelWiring.of(cfg);
      this.models = modelWiring;
      CostWiring costWiring = CostWiring.of(cfg);
      this.costs = costWiring;
      dev.keel.tool.ToolRegistry tools = tooling.catalog().registry();
      this.agentFolder = openAgentFolder(tools);
      // every agent version is kept in the store, so pinned runs resume after a restart (0024)
      this.agentDb =
          SideDb.open(cfg.storeUrl(), cfg.runtimeStoreUser(), cfg.runtimeStorePassword(), 2);
      dev.keel.agent.StoredAgents baseAgents =
          dev.keel.agent.StoredAgents.over(
              agentFolder == null
                  ? DemoCatalog.agents()
                  : layered(agentFolder, DemoCatalog.agents()),
              new dev.keel.store.jdbc.JdbcAgentDefinitions(agentDb, InstantSource.system()));
      if (agentFolder != null) {
        agentFolder.registerWith(baseAgents::register);
      }
      this.engine =
          Engine.of(
                  store,
                  probing(cfg, withServer) ? SyntheticProbe.catalog(baseAgents) : baseAgents,
                  probing(cfg, withServer)
                      ? SyntheticProbe.model(modelWiring.provider())
                      : modelWiring.provider(),
                  model ->
                      model.equals(SyntheticProbe.MODEL)
                          ? dev.keel.model.Pricing.FREE
                          : modelWiring.pricing().apply(model),
                  tools,
                  ToolPolicy.byRiskLevel(),
                  InstantSource.system(),
                  IdSource.timeOrdered(InstantSource.system()),
                  FaultInjector.NONE,
                  cfg.engine())
              .withToolScope(tooling.scope())
              .withGate(tooling.gate())
              .withCostLedger(costWiring.ledger())
              .withRedaction(redaction)
              .withObserver(telemetry.observer())
              .withOutputContract(new JsonSchemaOutputs());
      this.firstAdminToken = withServer ? ensureAdminKey() : Optional.empty();
      for (int i = 0; i < workerCount; i++) {
        workers.add(new RunWorker(engine, workerId(i), x -> LOG.error("worker failure", x)));
      }
      this.server = withServer ? Optional.of(server(tooling)) : Optional.empty();
      if (probing(cfg, withServer)) {
        Duration interval = cfg.probeInterval();
        Duration twice = interval.multipliedBy(2);
        Duration deadline = interval.multipliedBy(3);
        if (cfg.leaseTime().plus(twice).compareTo(deadline) > 0) {
          deadline = cfg.leaseTime().plus(twice);
        }
        this.probe =
            Optional.of(new SyntheticProbe(engine, interval, deadline, telemetry.registry()));
      }
    } catch (RuntimeException x) {
      close();
      throw x;
    }
  }

  /** Durable idempotency answers, the SQL run list and webhooks, in the store's database. */
  private ServerServices services() {
    // On SQLite, idempotency answers and admission slots join the run store's group commits.
    side =
        SideDb.open(cfg.storeUrl(), cfg.runtimeStoreUser(), cfg.runtimeStorePassword(), 4)
            .joiningCommitsOf(store);
    return ServerServices.of(
            new JdbcIdempotencyStore(side),
            new JdbcRunQuery(side),
            new JdbcWebhookStore(side),
            cfg.policy())
        .withAdmissions(new dev.keel.store.jdbc.JdbcAdmissions(side));
  }

  /**
   * The agent definitions of {@code ./agents} ({@code *.yaml}), if that folder exists: loaded now
   * (a problem stops the start with file, line and key) and reloaded when a file changes.
   */
  private static @org.jspecify.annotations.Nullable AgentFolder openAgentFolder(
      dev.keel.tool.ToolRegistry tools) {
    Path dir = Path.of("agents");
    if (!Files.isDirectory(dir)) {
      return null;
    }
    Set<String> names = new java.util.HashSet<>();
    tools.all().forEach(t -> names.add(t.spec().name()));
    AgentFolder f = AgentFolder.load(dir, names);
    f.watch(
        java.time.Duration.ofSeconds(2),
        problems -> LOG.warn("agent definitions not reloaded: {}", String.join("; ", problems)));
    LOG.info("loaded {} agent(s) from {}", f.all().size(), dir.toAbsolutePath());
    return f;
  }

  /** The folder's agents first; the built-in ones for names the folder does not define. */
  static dev.keel.agent.AgentCatalog layered(
      dev.keel.agent.AgentCatalog first, dev.keel.agent.AgentCatalog fallback) {
    return new dev.keel.agent.AgentCatalog() {
      @Override
      public Optional<dev.keel.agent.AgentSpec> latest(String name) {
        return first.latest(name).or(() -> fallback.latest(name));
      }

      @Override
      public Optional<dev.keel.agent.AgentSpec> find(String name, String version) {
        return first.find(name, version).or(() -> fallback.find(name, version));
      }

      @Override
      public List<dev.keel.agent.AgentSpec> all() {
        List<dev.keel.agent.AgentSpec> out = new ArrayList<>(first.all());
        for (dev.keel.agent.AgentSpec a : fallback.all()) {
          if (first.latest(a.name()).isEmpty()) {
            out.add(a);
          }
        }
        return out;
      }
    };
  }

  /** The API server with the configured workers. */
  public static KeelRuntime serve(KeelConfig cfg) {
    return new KeelRuntime(cfg, true, cfg.workers());
  }

  /** Workers only. */
  public static KeelRuntime worker(KeelConfig cfg) {
    return new KeelRuntime(cfg, false, Math.max(1, cfg.workers()));
  }

  /** Opens the configured store, migrating its schema; the SQLite folder is created if needed. */
  public static RunStore openStore(KeelConfig cfg) {
    String url = cfg.storeUrl();
    if (url.startsWith("jdbc:sqlite:")) {
      String file = url.substring("jdbc:sqlite:".length()).split("\\?", 2)[0];
      Path parent = Path.of(file).toAbsolutePath().getParent();
      try {
        if (parent != null) {
          Files.createDirectories(parent);
        }
      } catch (IOException x) {
        throw new UncheckedIOException(
            "cannot create the data folder " + parent + " for store.url; check home / KEEL_HOME",
            x);
      }
    }
    if (url.startsWith("jdbc:postgresql:")
        && !(cfg.storeUser().isEmpty() && cfg.storeAppUser().isEmpty())) {
      // Migrates as store.user, then works as store.app-user if set (docs/decisions/0043).
      return new PostgresRunStore(
          PostgresConfig.of(url)
              .withCredentials(cfg.storeUser(), cfg.storePassword())
              .withApplicationRole(cfg.storeAppUser(), cfg.storeAppPassword()),
          FaultInjector.NONE);
    }
    return Stores.open(url, FaultInjector.NONE);
  }

  private static String workerId(int i) {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException x) {
      host = "localhost";
    }
    return host
        + "-"
        + ProcessHandle.current().pid()
        + "-"
        + ManagementFactory.getRuntimeMXBean().getStartTime()
        + "-"
        + i;
  }

  private Optional<String> readiness() {
    store.now();
    return probe.flatMap(SyntheticProbe::problem);
  }

  private static boolean probing(KeelConfig cfg, boolean withServer) {
    return withServer && !cfg.probeInterval().isZero() && !cfg.probeInterval().isNegative();
  }

  /**
   * The API server, its HTTP meters in the telemetry registry (scraped and pushed over OTLP with
   * the engine's), started.
   */
  private ApiServer server(ToolWiring tooling) {
    ApiServer api =
        new ApiServer(
                engine,
                keys,
                cfg.server(),
                this::readiness,
                services(),
                tooling.review(cfg.policy().fourEyes()))
            .withMetrics(telemetry::scrape);
    dev.keel.observe.HttpMeters meters =
        new dev.keel.observe.HttpMeters(
            telemetry.registry(), api::openStreams, this::runsByStatus, System::nanoTime);
    return api.withRequestMeter(meters::answered).start();
  }

  /** The deployment's runs per status, every tenant's (decision 0043). */
  private java.util.Map<dev.keel.run.RunStatus, Long> runsByStatus() {
    java.util.Map<dev.keel.run.RunStatus, Long> out =
        new java.util.EnumMap<>(dev.keel.run.RunStatus.class);
    try (dev.keel.store.TenantScope.Entered all = dev.keel.store.TenantScope.enterEveryTenant()) {
      for (dev.keel.store.RunRow r : store.rows()) {
        out.merge(r.status(), 1L, Long::sum);
      }
    }
    return out;
  }

  /** The file the local CLI reads the admin key from. */
  public static Path adminKeyFile(KeelConfig cfg) {
    return cfg.home().resolve("admin.key");
  }

  private Optional<String> ensureAdminKey() {
    if (keys.all().stream().anyMatch(k -> k.role() == Role.ADMIN)) {
      return Optional.empty();
    }
    IssuedKey k = KeyTokens.issue(keys, "default", Role.ADMIN, Set.of(), Instant.now());
    writeSecret(adminKeyFile(cfg), k.token());
    return Optional.of(k.token());
  }

  /** Writes {@code secret} to {@code file} readable only by its owner (mode 0600). */
  static void writeSecret(Path file, String secret) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.deleteIfExists(tmp);
      try {
        Files.createFile(
            tmp,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } catch (UnsupportedOperationException x) {
        Files.createFile(tmp);
      }
      Files.writeString(tmp, secret + "\n");
      Files.move(
          tmp,
          file,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException x) {
      throw new UncheckedIOException(
          "cannot write the key file " + file + ": " + x.getMessage(), x);
    }
  }

  /** The admin token created at this start, if this was the first start. */
  public Optional<String> firstAdminToken() {
    return firstAdminToken;
  }

  /** The server, unless this is a worker-only process. */
  public Optional<ApiServer> server() {
    return server;
  }

  /** The store. */
  public RunStore store() {
    return store;
  }

  /** The API keys. */
  public ApiKeys keys() {
    return keys;
  }

  /** The configuration. */
  public KeelConfig config() {
    return cfg;
  }

  /**
   * Shuts down in order: event streams get a final event and the server stops; workers stop
   * claiming and hand their runs back at the next step boundary (up to {@code shutdown.grace});
   * then the store closes.
   */
  @Override
  public void close() {
    if (probe != null) {
      probe.ifPresent(SyntheticProbe::close);
    }
    if (server != null) {
      server.ifPresent(ApiServer::close);
    }
    for (RunWorker w : workers) {
      try {
        if (!w.drain(cfg.shutdownGrace())) {
          LOG.warn("worker {} did not drain within {}", w.workerId(), cfg.shutdownGrace());
        }
      } catch (InterruptedException x) {
        Thread.currentThread().interrupt();
      }
      w.close();
    }
    if (side != null) {
      side.close();
    }
    if (models != null) {
      models.close();
    }
    if (costs != null) {
      costs.close();
    }
    if (telemetry != null) {
      telemetry.close();
    }
    if (agentFolder != null) {
      agentFolder.close();
    }
    if (agentDb != null) {
      agentDb.close();
    }
    store.close();
  }
}
