package dev.keel.app;

import dev.keel.engine.Engine;
import dev.keel.engine.IdSource;
import dev.keel.engine.RunWorker;
import dev.keel.model.Pricing;
import dev.keel.run.FaultInjector;
import dev.keel.server.ApiServer;
import dev.keel.server.auth.ApiKeys;
import dev.keel.server.auth.IssuedKey;
import dev.keel.server.auth.KeyTokens;
import dev.keel.server.auth.Role;
import dev.keel.store.RunStore;
import dev.keel.store.jdbc.PostgresConfig;
import dev.keel.store.jdbc.PostgresRunStore;
import dev.keel.store.jdbc.Stores;
import dev.keel.tool.ToolPolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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
  private final List<RunWorker> workers = new ArrayList<>();
  private final Optional<ApiServer> server;
  private final Optional<String> firstAdminToken;

  private KeelRuntime(KeelConfig cfg, boolean withServer, int workerCount) {
    this.cfg = cfg;
    this.store = openStore(cfg);
    try {
      this.keys = new JdbcApiKeys(cfg.storeUrl(), cfg.storeUser(), cfg.storePassword());
      this.engine =
          Engine.of(
              store,
              DemoCatalog.agents(),
              DemoCatalog.model(),
              model -> new Pricing(1_000_000, 2_000_000, 0),
              DemoCatalog.tools(),
              ToolPolicy.byRiskLevel(),
              InstantSource.system(),
              IdSource.random(),
              FaultInjector.NONE,
              cfg.engine());
      this.firstAdminToken = withServer ? ensureAdminKey() : Optional.empty();
      for (int i = 0; i < workerCount; i++) {
        workers.add(new RunWorker(engine, workerId(i), x -> LOG.error("worker failure", x)));
      }
      this.server =
          withServer
              ? Optional.of(new ApiServer(engine, keys, cfg.server(), this::readiness).start())
              : Optional.empty();
    } catch (RuntimeException x) {
      close();
      throw x;
    }
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
    if (url.startsWith("jdbc:postgresql:") && !cfg.storeUser().isEmpty()) {
      return new PostgresRunStore(
          PostgresConfig.of(url).withCredentials(cfg.storeUser(), cfg.storePassword()),
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
    return Optional.empty();
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
    store.close();
  }
}
