package dev.keel.app;

import dev.keel.engine.ChainVerifier;
import dev.keel.json.JsonValue;
import dev.keel.run.RunId;
import dev.keel.server.auth.IssuedKey;
import dev.keel.server.auth.KeyTokens;
import dev.keel.server.auth.Role;
import dev.keel.server.auth.Scope;
import dev.keel.store.RunStore;
import dev.keel.store.jdbc.StoreMigrations;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Commands that run Keel or work on the local store: serve, worker, keys, migrate, verify, doctor.
 */
final class AdminCommands {
  private AdminCommands() {}

  private static KeelRuntime start(KeelConfig cfg, boolean server) {
    try {
      return server ? KeelRuntime.serve(cfg) : KeelRuntime.worker(cfg);
    } catch (RuntimeException x) {
      throw new CliException(
          CliException.UNREACHABLE,
          "cannot start on store " + cfg.redactedStoreUrl() + ": " + x.getMessage());
    }
  }

  /** Blocks until the JVM shuts down (SIGTERM, SIGINT), closing {@code rt} gracefully first. */
  private static int runUntilStopped(Ctx ctx, KeelRuntime rt) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  ctx.err.println("keel: shutting down (draining runs, closing streams)");
                  ctx.err.flush();
                  rt.close();
                  stopped.countDown();
                },
                "keel-shutdown"));
    stopped.await();
    return 0;
  }

  @Command(
      name = "serve",
      description = "Run the API and workers (embedded SQLite by default).",
      mixinStandardHelpOptions = true)
  static final class Serve implements Callable<Integer> {
    @Mixin Ctx.Global g = new Ctx.Global();

    @Option(names = "--port", paramLabel = "N", description = "port (default server.port, 8080)")
    Optional<Integer> port = Optional.empty();

    private final Ctx ctx;

    Serve(Ctx ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() throws InterruptedException {
      KeelConfig base = ctx.config(g);
      KeelConfig cfg = port.isPresent() ? base.withPort(port.get()) : base;
      KeelRuntime rt = start(cfg, true);
      int bound = rt.server().orElseThrow().port();
      ctx.out.println("Keel is listening on http://" + cfg.serverHost() + ":" + bound);
      ctx.out.println("store: " + cfg.redactedStoreUrl() + "   workers: " + cfg.workers());
      rt.firstAdminToken()
          .ifPresent(
              t -> {
                ctx.out.println(
                    "Admin API key (shown once; the local CLI reads it from "
                        + KeelRuntime.adminKeyFile(cfg)
                        + ", mode 0600):");
                ctx.out.println("  " + t);
              });
      ctx.out.println(
          "Try: keel run support-triage \"Refund order A-1001, it arrived damaged\" --follow");
      ctx.out.flush();
      return runUntilStopped(ctx, rt);
    }
  }

  @Command(
      name = "worker",
      description = "Run workers only (scale out on PostgreSQL).",
      mixinStandardHelpOptions = true)
  static final class Worker implements Callable<Integer> {
    @Mixin Ctx.Global g = new Ctx.Global();
    private final Ctx ctx;

    Worker(Ctx ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() throws InterruptedException {
      KeelConfig cfg = ctx.config(g);
      KeelRuntime rt = start(cfg, false);
      ctx.out.println("Keel workers running on " + cfg.redactedStoreUrl());
      ctx.out.flush();
      return runUntilStopped(ctx, rt);
    }
  }

  @Command(
      name = "keys",
      description = "Manage API keys.",
      mixinStandardHelpOptions = true,
      subcommands = KeysCreate.class)
  static final class Keys implements Callable<Integer> {
    @Override
    public Integer call() {
      throw new CliException(
          CliException.USAGE, "use: keel keys create --tenant T --role admin|operator|viewer");
    }
  }

  @Command(
      name = "create",
      description = "Create an API key; the token is shown once.",
      mixinStandardHelpOptions = true)
  static final class KeysCreate implements Callable<Integer> {
    @Mixin Ctx.Global g = new Ctx.Global();

    @Option(names = "--tenant", required = true)
    String tenant = "";

    @Option(names = "--role", required = true, description = "admin, operator or viewer")
    String role = "";

    @Option(
        names = "--scope",
        description = "read, runs:write, approvals:decide, admin (repeatable)")
    List<String> scopes = new ArrayList<>();

    private final Ctx ctx;

    KeysCreate(Ctx ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() throws Exception {
      KeelConfig cfg = ctx.config(g);
      Role r;
      Set<Scope> s = new LinkedHashSet<>();
      try {
        r = Role.fromWire(role);
        for (String x : scopes) {
          s.add(Scope.fromWire(x));
        }
      } catch (IllegalArgumentException x) {
        throw new CliException(CliException.USAGE, x.getMessage());
      }
      try (RunStore store = KeelRuntime.openStore(cfg)) {
        store.now();
      } catch (RuntimeException x) {
        throw new CliException(
            CliException.UNREACHABLE,
            "cannot open the store " + cfg.redactedStoreUrl() + ": " + x.getMessage());
      }
      IssuedKey k;
      try {
        k =
            KeyTokens.issue(
                new JdbcApiKeys(cfg.storeUrl(), cfg.storeUser(), cfg.storePassword()),
                tenant,
                r,
                s,
                Instant.now());
      } catch (IllegalArgumentException x) {
        throw new CliException(CliException.USAGE, x.getMessage());
      }
      ctx.print(
          g,
          JsonValue.object(
              "id", k.key().id(), "tenant", tenant, "role", r.wire(), "token", k.token()),
          "created "
              + k.key().id()
              + " for tenant "
              + tenant
              + " ("
              + r.wire()
              + "); the token is shown once:\n  "
              + k.token());
      return 0;
    }
  }

  @Command(
      name = "migrate",
      description = "Bring the store's schema up to date.",
      mixinStandardHelpOptions = true)
  static final class Migrate implements Callable<Integer> {
    @Mixin Ctx.Global g = new Ctx.Global();
    private final Ctx ctx;

    Migrate(Ctx ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() throws Exception {
      KeelConfig cfg = ctx.config(g);
      StoreMigrations.Result r;
      try (RunStore store = KeelRuntime.openStore(cfg)) {
        store.now();
        r = StoreMigrations.migrate(cfg.storeUrl(), cfg.storeUser(), cfg.storePassword());
      } catch (RuntimeException x) {
        throw new CliException(
            CliException.UNREACHABLE,
            "cannot migrate " + cfg.redactedStoreUrl() + ": " + x.getMessage());
      }
      ctx.print(
          g,
          JsonValue.object(
              "database",
              r.database(),
              "from",
              r.from().orElse(null),
              "to",
              r.to(),
              "applied",
              (long) r.applied()),
          r.database()
              + " schema at version "
              + r.to()
              + " ("
              + r.applied()
              + " migrations applied now)");
      return 0;
    }
  }

  @Command(
      name = "verify",
      description = "Check a run's event and checkpoint hash chains.",
      mixinStandardHelpOptions = true)
  static final class Verify implements Callable<Integer> {
    @Mixin Ctx.Global g = new Ctx.Global();

    @Parameters(paramLabel = "RUN")
    String run = "";

    private final Ctx ctx;

    Verify(Ctx ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      KeelConfig cfg = ctx.config(g);
      RunId id;
      try {
        id = RunId.of(run);
      } catch (IllegalArgumentException x) {
        throw new CliException(CliException.USAGE, x.getMessage());
      }
      try (RunStore store = KeelRuntime.openStore(cfg)) {
        if (store.row(id).isEmpty()) {
          throw new CliException(
              CliException.USAGE, "run " + run + " is not in the store " + cfg.redactedStoreUrl());
        }
        List<String> problems = ChainVerifier.verify(store, id);
        ctx.print(
            g,
            JsonValue.object("run_id", run, "intact", problems.isEmpty(), "problems", problems),
            problems.isEmpty()
                ? run
                    + ": hash chains intact ("
                    + store.eventHashes(id).size()
                    + " events, "
                    + store.checkpoints(id).size()
                    + " checkpoints)"
                : run + ": BROKEN\n  - " + String.join("\n  - ", problems));
        return problems.isEmpty() ? 0 : 1;
      } catch (CliException x) {
        throw x;
      } catch (RuntimeException x) {
        throw new CliException(
            CliException.UNREACHABLE,
            "cannot read the store " + cfg.redactedStoreUrl() + ": " + x.getMessage());
      }
    }
  }

  @Command(
      name = "doctor",
      description = "Check this machine and the configuration; print what to fix.",
      mixinStandardHelpOptions = true)
  static final class Doctor implements Callable<Integer> {
    @Mixin Ctx.Global g = new Ctx.Global();
    private final Ctx ctx;

    Doctor(Ctx ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      List<String> ok = new ArrayList<>();
      List<String> fix = new ArrayList<>();
      int feature = Runtime.version().feature();
      if (feature >= 21) {
        ok.add("JDK " + Runtime.version() + " (21 or newer)");
      } else {
        fix.add(
            "JDK "
                + Runtime.version()
                + " is too old: install JDK 21 or newer and point JAVA_HOME at it");
      }
      KeelConfig cfg;
      try {
        cfg = ctx.config(g);
        ok.add("configuration valid");
      } catch (ConfigException x) {
        fix.addAll(x.problems());
        return finish(ok, fix, 2);
      }
      boolean unreachable = !checkStore(cfg, ok, fix);
      dev.keel.tools.sandbox.SandboxCheck.Status sandbox =
          dev.keel.tools.sandbox.SandboxCheck.probe();
      if (sandbox.available()) {
        ok.add(sandbox.report());
      } else {
        fix.add(sandbox.report());
      }
      ok.add(
          cfg.sections().get("models").isPresent()
              ? "model provider: the gateway configured under models:"
              : "model provider: scripted (offline demo, no key needed)");
      Path key = KeelRuntime.adminKeyFile(cfg);
      if (Files.exists(key)) {
        ok.add("admin key file " + key);
      } else {
        ok.add("no admin key yet; 'keel serve' creates " + key + " on first start");
      }
      return finish(ok, fix, unreachable ? CliException.UNREACHABLE : fix.isEmpty() ? 0 : 1);
    }

    private boolean checkStore(KeelConfig cfg, List<String> ok, List<String> fix) {
      String url = cfg.storeUrl();
      if (url.startsWith("jdbc:sqlite:")
          && !Files.exists(Path.of(url.substring(12).split("\\?", 2)[0]))) {
        ok.add(
            "store: no database yet at "
                + cfg.redactedStoreUrl()
                + " ('keel serve' or 'keel migrate' creates it)");
        return true;
      }
      try (Connection c =
              cfg.storeUser().isEmpty()
                  ? DriverManager.getConnection(url)
                  : DriverManager.getConnection(url, cfg.storeUser(), cfg.storePassword());
          Statement s = c.createStatement()) {
        ok.add("store reachable: " + cfg.redactedStoreUrl());
        try (ResultSet rs =
            s.executeQuery(
                "SELECT COUNT(*) FROM flyway_schema_history WHERE success = "
                    + (url.startsWith("jdbc:sqlite:") ? "1" : "true"))) {
          rs.next();
          ok.add("store migrations applied: " + rs.getLong(1));
        } catch (java.sql.SQLException x) {
          fix.add("store has no Keel schema yet: run 'keel migrate'");
        }
        return true;
      } catch (java.sql.SQLException x) {
        fix.add(
            "store unreachable at "
                + cfg.redactedStoreUrl()
                + ": "
                + x.getMessage()
                + "; check store.url / KEEL_STORE_URL and that the database is running");
        return false;
      }
    }

    private int finish(List<String> ok, List<String> fix, int code) {
      ctx.print(
          g,
          JsonValue.object("ok", ok, "fix", fix),
          String.join("\n", ok.stream().map(s -> "ok   " + s).toList())
              + (fix.isEmpty()
                  ? ""
                  : "\n" + String.join("\n", fix.stream().map(s -> "FIX  " + s).toList())));
      return code;
    }

    static Optional<Path> onPath(String exe, String path) {
      for (String dir :
          java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(File.pathSeparator))
              .splitAsStream(path)
              .toList()) {
        if (!dir.isEmpty()) {
          Path p = Path.of(dir, exe);
          if (Files.isExecutable(p)) {
            return Optional.of(p);
          }
        }
      }
      return Optional.empty();
    }
  }
}
