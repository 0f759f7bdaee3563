package dev.keel.app;

import dev.keel.engine.ExecutionGate;
import dev.keel.engine.ToolScope;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonBool;
import dev.keel.json.JsonValue.JsonNumber;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.json.JsonValue.JsonString;
import dev.keel.run.RunHeader;
import dev.keel.run.RunState;
import dev.keel.run.ToolCallState;
import dev.keel.server.ApiException;
import dev.keel.server.ApprovalReview;
import dev.keel.server.auth.ApiKey;
import dev.keel.store.ApprovalRecord;
import dev.keel.store.RunStore;
import dev.keel.store.Signal;
import dev.keel.store.SignalPayload;
import dev.keel.tool.Idempotency;
import dev.keel.tool.Tool;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.UnknownOutcomePolicy;
import dev.keel.tools.AgentToolPolicy;
import dev.keel.tools.ApprovalCheck;
import dev.keel.tools.ApprovalGuard;
import dev.keel.tools.ApprovalPolicy;
import dev.keel.tools.Availability;
import dev.keel.tools.CircuitBreaker;
import dev.keel.tools.ContractedTool;
import dev.keel.tools.GovernedTool;
import dev.keel.tools.Limits;
import dev.keel.tools.Redactor;
import dev.keel.tools.RetryPolicy;
import dev.keel.tools.RiskPolicy;
import dev.keel.tools.RunProfile;
import dev.keel.tools.RunTools;
import dev.keel.tools.Sleeper;
import dev.keel.tools.ToolCatalog;
import dev.keel.tools.ToolContract;
import dev.keel.tools.ToolRuntime;
import dev.keel.tools.http.DnsResolver;
import dev.keel.tools.http.HttpTool;
import dev.keel.tools.http.HttpToolConfig;
import dev.keel.tools.java.JavaTool;
import dev.keel.tools.sandbox.Bubblewrap;
import dev.keel.tools.sandbox.CliToolConfig;
import dev.keel.tools.sandbox.SandboxCheck;
import dev.keel.tools.sandbox.SandboxLimits;
import dev.keel.tools.sandbox.SandboxedCliTool;
import dev.keel.tools.schema.Violation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The deployment's governed tools: the demo tools as contracted Java tools, plus the HTTP and
 * sandboxed CLI tools declared under {@code tools.http} and {@code tools.cli}, all wrapped in
 * {@link GovernedTool}. Gives the engine a per-run {@link ToolScope} (filtered by tenant, tier,
 * locale and flags, with a per-run {@code RiskPolicy}) and an {@link ExecutionGate} ({@link
 * ApprovalGuard#permitsExecution}), and the server an {@link ApprovalReview} ({@link
 * ApprovalGuard#check}).
 *
 * <p>Implementation notes: a declared tool with the name of a demo tool replaces it, so a
 * deployment can point {@code orders.refund} at its real payment API without touching the agent.
 * Secrets are named in {@code tools.secrets} as references ({@code env:NAME} or {@code
 * file:/path}), resolved at call time, and added to the redactor once seen. A tenant's tier, flags
 * and scopes come from {@code tools.tenants}, never from the run's caller; only the locale is read
 * from the run's metadata ({@code locale}). CLI tools get per-run workspaces under {@code
 * home/workspaces}; when Keel runs as root the sandboxed command runs as an unprivileged uid, so
 * the data folder and its parents must be traversable ({@code chmod o+x}).
 */
final class ToolWiring {
  private static final Logger AUDIT = LoggerFactory.getLogger("keel.tools.audit");
  private static final Set<String> COMMON =
      Set.of(
          "name",
          "description",
          "version",
          "risk",
          "idempotency",
          "unknown-outcome",
          "timeout",
          "input-schema",
          "output-schema",
          "approval",
          "scopes",
          "availability",
          "retries",
          "max-output-bytes");
  private static final Set<String> HTTP_KEYS =
      Set.of(
          "method",
          "url",
          "headers",
          "query",
          "response-pointer",
          "allowed-hosts",
          "allowed-ranges",
          "allow-plain-http",
          "max-response-bytes",
          "max-redirects");
  private static final Set<String> CLI_KEYS = Set.of("argv", "network", "env", "read-only-paths");

  private final RunStore store;
  private final ToolCatalog catalog;
  private final ApprovalGuard guard;
  private final Map<String, JsonObject> tenants;

  private ToolWiring(
      RunStore store, ToolCatalog catalog, ApprovalGuard guard, Map<String, JsonObject> tenants) {
    this.store = store;
    this.catalog = catalog;
    this.guard = guard;
    this.tenants = tenants;
  }

  /**
   * Builds the catalog from {@code cfg}.
   *
   * @throws ConfigException naming every bad declaration
   */
  /**
   * The deployment's tool audit trail, in the (redacted, structured) log: breaker transitions are
   * warnings, refusals and approval checks are info, and each call's own steps (which the run's
   * events also record) are debug.
   */
  static void audit(dev.keel.tools.ToolAuditEvent e) {
    switch (e) {
      case dev.keel.tools.ToolAuditEvent.BreakerTransitioned b ->
          AUDIT.warn("circuit breaker of tool {} went from {} to {}", b.tool(), b.from(), b.to());
      case dev.keel.tools.ToolAuditEvent.CallDenied d -> AUDIT.info("{}", d);
      case dev.keel.tools.ToolAuditEvent.ApprovalChecked a -> AUDIT.info("{}", a);
      default -> AUDIT.debug("{}", e);
    }
  }

  static ToolWiring of(KeelConfig cfg, RunStore store, DnsResolver dns) {
    Redactor redactor = new Redactor(List.of());
    Map<String, String> secretRefs = secretRefs(cfg.sections(), redactor);
    ToolRuntime runtime =
        new ToolRuntime(
            InstantSource.system(),
            Sleeper.system(),
            new SplittableRandom(),
            ToolWiring::audit,
            redactor,
            (tenant, runId, callId, mediaType, content) ->
                artifact(cfg.home(), tenant, runId, callId, content),
            CircuitBreaker.Config.DEFAULT);
    Map<String, ContractedTool> tools = new LinkedHashMap<>();
    for (Tool t : DemoCatalog.tools().all()) {
      tools.put(t.spec().name(), demo(t));
    }
    List<String> problems = new ArrayList<>();
    forEach(
        cfg.sections(),
        "tools.http",
        problems,
        (key, o) -> {
          ContractedTool t = http(key, o, dns, secretRefs, redactor);
          tools.put(t.contract().name(), t);
        });
    SandboxCheck.Status sandbox =
        cfg.sections().get("tools.cli").isPresent() ? SandboxCheck.probe() : null;
    forEach(
        cfg.sections(),
        "tools.cli",
        problems,
        (key, o) -> {
          ContractedTool t = cli(key, o, sandbox, cfg.home().resolve("workspaces"));
          tools.put(t.contract().name(), t);
        });
    Map<String, JsonObject> tenants = new LinkedHashMap<>();
    cfg.sections()
        .get("tools.tenants")
        .ifPresent(
            v -> {
              if (!(v instanceof JsonObject o)) {
                problems.add("tools.tenants must be a mapping of tenant to {tier, flags, scopes}");
                return;
              }
              o.members()
                  .forEach(
                      (name, p) -> {
                        if (p instanceof JsonObject po) {
                          Section s = new Section("tools.tenants." + name, po);
                          s.check(Set.of("tier", "flags", "scopes"));
                          s.strings("flags");
                          s.strings("scopes");
                          s.string("tier", "default");
                          problems.addAll(s.problems);
                          tenants.put(name, po);
                        } else {
                          problems.add("tools.tenants." + name + " must be a mapping");
                        }
                      });
            });
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    ToolCatalog catalog;
    try {
      catalog = new ToolCatalog(tools.values(), runtime);
    } catch (IllegalArgumentException x) {
      throw new ConfigException(List.of("tools: " + x.getMessage()));
    }
    return new ToolWiring(
        store, catalog, new ApprovalGuard(catalog, runtime.clock(), runtime.audit()), tenants);
  }

  /** The catalog. */
  ToolCatalog catalog() {
    return catalog;
  }

  /** Each run's tools: the catalog filtered by the run's profile, with a policy of its own. */
  ToolScope scope() {
    return new ToolScope() {
      @Override
      public ToolScope.Bound forRun(RunHeader run) {
        RunTools rt = catalog.forRun(profile(run), AgentToolPolicy.STRICT);
        return new ToolScope.Bound(rt.registry(), rt.policy(), rt.versions());
      }

      /** As above, with the run's earlier invalid proposals counted against its limit. */
      @Override
      public ToolScope.Bound forRun(RunState state) {
        RunTools rt = catalog.forRun(profile(state.header()), AgentToolPolicy.STRICT);
        if (rt.policy() instanceof RiskPolicy p) {
          // earlier steps' results live in the conversation, this step's in its calls
          for (dev.keel.model.Message m : state.messages()) {
            if (m instanceof dev.keel.model.Message.ToolResult r
                && r.isError()
                && RiskPolicy.isInvalidArguments(r.toolName(), errorMessage(r.content()))) {
              p.countEarlierInvalid(r.toolName());
            }
          }
          for (ToolCallState c : state.calls()) {
            if (c.status() == ToolCallState.Status.FAILED
                && RiskPolicy.isInvalidArguments(
                    c.tool(), errorMessage(c.result().orElse(JsonValue.NULL)))) {
              p.countEarlierInvalid(c.tool());
            }
          }
        }
        return new ToolScope.Bound(rt.registry(), rt.policy(), rt.versions());
      }
    };
  }

  private static String errorMessage(JsonValue result) {
    return result instanceof JsonObject o
        ? o.get("error")
            .filter(JsonObject.class::isInstance)
            .flatMap(e -> ((JsonObject) e).string("message"))
            .orElse("")
        : "";
  }

  /** The run's profile: tier, flags and scopes from {@code tools.tenants}, locale from metadata. */
  RunProfile profile(RunHeader run) {
    JsonObject t = tenants.getOrDefault(run.tenant(), JsonValue.EMPTY_OBJECT);
    Section s = new Section("tools.tenants." + run.tenant(), t);
    return new RunProfile(
        run.tenant(),
        run.runId().value(),
        s.string("tier", "default"),
        run.metadata().string("locale").orElse("und"),
        new LinkedHashSet<>(s.strings("flags")),
        new LinkedHashSet<>(s.strings("scopes")));
  }

  /**
   * The engine's second lock: a call that waited for an approval runs only if {@link
   * ApprovalGuard#permitsExecution} agrees with the stored approval and the decision signal the
   * store recorded for it. A call that never needed approval passes.
   */
  ExecutionGate gate() {
    return (RunHeader run, ToolCallState call, ToolInvocation inv) -> {
      if (call.approvalId().isEmpty()) {
        return Optional.empty();
      }
      String id = call.approvalId().get();
      Optional<ApprovalRecord> decided = store.approval(run.tenant(), id);
      if (decided.isEmpty()) {
        return Optional.of("approval " + id + " of call " + call.callId() + " is not stored");
      }
      Optional<SignalPayload.ApprovalDecision> decision = Optional.empty();
      for (Signal sig : store.signals(run.runId(), 0)) {
        if (sig.payload() instanceof SignalPayload.ApprovalDecision d
            && d.approvalId().equals(id)) {
          decision = Optional.of(d);
        }
      }
      if (decision.isEmpty()) {
        return Optional.of("no decision of approval " + id + " is recorded");
      }
      return guard.permitsExecution(decided.get(), decision.get(), call.tool(), inv)
          ? Optional.empty()
          : Optional.of(
              "approval "
                  + id
                  + " does not permit this execution (not approved, another binding, decided"
                  + " after expiry, arguments not the approved ones, or already used)");
    };
  }

  /** The server's check of a decision, before the store records it, without four-eyes. */
  ApprovalReview review() {
    return review(false);
  }

  /**
   * The server's check of a decision, before the store records it. With {@code fourEyes}, the API
   * key that created the approval's run (recorded in its {@code run.created}) may not decide it.
   */
  ApprovalReview review(boolean fourEyes) {
    return (ApiKey key, Optional<ApprovalRecord> stored, SignalPayload.ApprovalDecision d) -> {
      dev.keel.tools.Approver who =
          new dev.keel.tools.Approver(key.tenant(), key.id(), roleOf(key.role()));
      Optional<String> startedBy =
          fourEyes && stored.isPresent() && stored.get().tenant().equals(key.tenant())
              ? createdBy(stored.get().runId())
              : Optional.empty();
      ApprovalCheck r = guard.check(who, stored, d, startedBy);
      if (!(r instanceof ApprovalCheck.Rejected x)) {
        return Optional.empty();
      }
      return Optional.of(
          switch (x.status()) {
            case 404 -> new ApprovalReview.Refusal(404, "not_found", x.reason(), List.of());
            case 403 -> new ApprovalReview.Refusal(403, "forbidden", x.reason(), List.of());
            case 409 ->
                new ApprovalReview.Refusal(409, "approval_not_pending", x.reason(), List.of());
            case 410 -> new ApprovalReview.Refusal(409, "approval_expired", x.reason(), List.of());
            case 422 ->
                new ApprovalReview.Refusal(
                    422, "invalid_arguments", x.reason(), pointers(stored, d));
            default ->
                new ApprovalReview.Refusal(x.status(), "invalid_argument", x.reason(), List.of());
          });
    };
  }

  /** The API key that created {@code run}, read from its first event. */
  private Optional<String> createdBy(dev.keel.run.RunId run) {
    return store.events(run, 0, 1).stream()
        .map(dev.keel.run.EventEnvelope::event)
        .filter(dev.keel.run.RunEvent.RunCreated.class::isInstance)
        .map(dev.keel.run.RunEvent.RunCreated.class::cast)
        .findFirst()
        .flatMap(dev.keel.run.RunEvent.RunCreated::createdBy);
  }

  private List<ApiException.FieldError> pointers(
      Optional<ApprovalRecord> stored, SignalPayload.ApprovalDecision d) {
    if (stored.isEmpty() || d.arguments().isEmpty()) {
      return List.of();
    }
    Optional<GovernedTool> tool = catalog.find(stored.get().tool());
    if (tool.isEmpty()) {
      return List.of();
    }
    List<ApiException.FieldError> out = new ArrayList<>();
    for (Violation v : tool.get().validate(d.arguments().get())) {
      out.add(new ApiException.FieldError("/arguments" + v.pointer(), v.message()));
    }
    return out;
  }

  private static dev.keel.tools.Approver.Role roleOf(dev.keel.server.auth.Role role) {
    return switch (role) {
      case ADMIN -> dev.keel.tools.Approver.Role.ADMIN;
      // operators decide approvals in Keel's API (api.md); viewers never do
      case OPERATOR -> dev.keel.tools.Approver.Role.APPROVER;
      case VIEWER -> dev.keel.tools.Approver.Role.VIEWER;
    };
  }

  private static ContractedTool demo(Tool t) {
    ToolContract contract =
        new ToolContract(
            t.spec(),
            JsonValue.EMPTY_OBJECT,
            RetryPolicy.NONE,
            ApprovalPolicy.BY_RISK,
            Set.of(),
            Limits.DEFAULT,
            Availability.EVERYONE,
            64 * 1024);
    return JavaTool.of(contract, t::invoke);
  }

  private static Map<String, String> secretRefs(JsonObject sections, Redactor redactor) {
    Map<String, String> refs = new LinkedHashMap<>();
    sections
        .get("tools.secrets")
        .ifPresent(
            v -> {
              List<String> problems = new ArrayList<>();
              if (!(v instanceof JsonObject o)) {
                throw new ConfigException(
                    List.of("tools.secrets must be a mapping of name to env:NAME or file:/path"));
              }
              o.members()
                  .forEach(
                      (name, ref) -> {
                        if (ref instanceof JsonString s
                            && (s.value().startsWith("env:") || s.value().startsWith("file:"))) {
                          refs.put(name, s.value());
                          resolve(s.value()).ifPresent(redactor::addSecret);
                        } else {
                          problems.add(
                              "tools.secrets."
                                  + name
                                  + " must be a reference, env:NAME or file:/path, not the secret"
                                  + " itself");
                        }
                      });
              if (!problems.isEmpty()) {
                throw new ConfigException(problems);
              }
            });
    return refs;
  }

  static Optional<String> resolve(String ref) {
    if (ref.startsWith("env:")) {
      return Optional.ofNullable(System.getenv(ref.substring(4)));
    }
    try {
      Path p = Path.of(ref.substring(5));
      return Files.isRegularFile(p) ? Optional.of(Files.readString(p).strip()) : Optional.empty();
    } catch (IOException x) {
      return Optional.empty();
    }
  }

  private static String artifact(
      Path home, String tenant, String runId, String callId, byte[] content) {
    Path dir = home.resolve("artifacts").resolve(safe(tenant)).resolve(safe(runId));
    try {
      Files.createDirectories(dir);
      Files.write(dir.resolve(safe(callId)), content);
    } catch (IOException x) {
      throw new UncheckedIOException("cannot keep the artifact of " + callId, x);
    }
    return "artifact://" + safe(tenant) + "/" + safe(runId) + "/" + safe(callId);
  }

  private static String safe(String s) {
    return s.replaceAll("[^A-Za-z0-9_.-]", "_");
  }

  private interface Declared {
    void accept(String key, Section s);
  }

  private static void forEach(
      JsonObject sections, String key, List<String> problems, Declared each) {
    Optional<JsonValue> v = sections.get(key);
    if (v.isEmpty()) {
      return;
    }
    if (!(v.get() instanceof JsonArray a)) {
      problems.add(key + " must be a list of tool declarations");
      return;
    }
    for (int i = 0; i < a.items().size(); i++) {
      String where = key + "[" + i + "]";
      if (!(a.items().get(i) instanceof JsonObject o)) {
        problems.add(where + " must be a mapping");
        continue;
      }
      Section s = new Section(where, o);
      try {
        each.accept(where, s);
      } catch (IllegalArgumentException | UncheckedIOException x) {
        s.problems.add(where + " (" + o.string("name").orElse("?") + "): " + x.getMessage());
      }
      problems.addAll(s.problems);
    }
  }

  private static ToolContract contract(Section s, Set<String> extra) {
    Set<String> known = new HashSet<>(COMMON);
    known.addAll(extra);
    s.check(known);
    String name = s.required("name");
    int risk = (int) s.integer("risk", -1);
    if (risk < 0 || risk > 4) {
      throw new IllegalArgumentException("risk must be 0 to 4");
    }
    JsonObject input =
        s.object("input-schema")
            .orElseThrow(() -> new IllegalArgumentException("input-schema is required"));
    ToolContract.Builder b =
        ToolContract.builder(name)
            .version(s.string("version", "1"))
            .description(s.string("description", ""))
            .inputSchema(input)
            .outputSchema(s.object("output-schema").orElse(JsonValue.EMPTY_OBJECT))
            .riskLevel(risk)
            .idempotency(
                Idempotency.valueOf(s.string("idempotency", "none").toUpperCase(Locale.ROOT)))
            .unknownOutcome(
                UnknownOutcomePolicy.valueOf(
                    s.string("unknown-outcome", "ask_person")
                        .toUpperCase(Locale.ROOT)
                        .replace('-', '_')))
            .timeout(duration(s.string("timeout", "30s")))
            .approval(
                ApprovalPolicy.valueOf(
                    s.string("approval", "by_risk").toUpperCase(Locale.ROOT).replace('-', '_')))
            .requiredScopes(s.strings("scopes").toArray(String[]::new))
            .maxOutputBytes((int) s.integer("max-output-bytes", 64 * 1024));
    long retries = s.integer("retries", 0);
    if (retries > 0) {
      b.retry(
          new RetryPolicy(
              (int) retries + 1,
              RetryPolicy.DEFAULT.initialBackoff(),
              RetryPolicy.DEFAULT.maxBackoff(),
              RetryPolicy.DEFAULT.multiplier(),
              RetryPolicy.DEFAULT.jitter()));
    }
    JsonObject av = s.object("availability").orElse(null);
    if (av == null) {
      b.availability(Availability.EVERYONE);
    } else {
      Section a = new Section(s.where + ".availability", av);
      a.check(Set.of("tenants", "tiers", "locales", "flags"));
      b.availability(
          new Availability(
              Set.copyOf(a.strings("tenants", List.of("*"))),
              Set.copyOf(a.strings("tiers", List.of("*"))),
              Set.copyOf(a.strings("locales", List.of("*"))),
              Set.copyOf(a.strings("flags"))));
      s.problems.addAll(a.problems);
    }
    return b.build();
  }

  private static ContractedTool http(
      String where, Section s, DnsResolver dns, Map<String, String> secretRefs, Redactor redactor) {
    ToolContract c = contract(s, HTTP_KEYS);
    String url = s.required("url");
    List<String> hosts = s.strings("allowed-hosts");
    if (hosts.isEmpty() && !url.startsWith("{")) {
      hosts = List.of(URI.create(url.replaceAll("\\{[A-Za-z0-9_]+\\}", "x")).getHost());
    }
    Map<String, String> headers = new LinkedHashMap<>();
    s.object("headers")
        .ifPresent(
            h ->
                h.members()
                    .forEach(
                        (k, v) -> {
                          if (v instanceof JsonString str) {
                            headers.put(k, str.value());
                          } else {
                            s.problems.add(where + ".headers." + k + " must be a string");
                          }
                        }));
    headers.values().stream()
        .flatMap(
            v ->
                java.util.regex.Pattern.compile("\\$\\{secret:([A-Za-z0-9_.-]+)\\}")
                    .matcher(v)
                    .results())
        .map(m -> m.group(1))
        .filter(n -> !secretRefs.containsKey(n))
        .forEach(
            n ->
                s.problems.add(
                    where
                        + ".headers refers to secret '"
                        + n
                        + "', which tools.secrets does not declare"));
    HttpToolConfig config =
        new HttpToolConfig(
            s.string("method", "GET").toUpperCase(Locale.ROOT),
            url,
            headers,
            s.strings("query"),
            s.string("response-pointer", ""),
            Set.copyOf(hosts),
            s.strings("allowed-ranges"),
            s.bool("allow-plain-http", false),
            (int) s.integer("max-response-bytes", 1 << 20),
            (int) s.integer("max-redirects", 3));
    return new HttpTool(
        c,
        config,
        dns,
        name ->
            Optional.ofNullable(secretRefs.get(name))
                .flatMap(ToolWiring::resolve)
                .map(
                    v -> {
                      redactor.addSecret(v);
                      return v;
                    }),
        redactor);
  }

  private static ContractedTool cli(
      String where, Section s, SandboxCheck.Status sandbox, Path workspaces) {
    ToolContract c = contract(s, CLI_KEYS);
    Map<String, String> env = new LinkedHashMap<>();
    s.object("env")
        .ifPresentOrElse(
            e ->
                e.members()
                    .forEach(
                        (k, v) -> {
                          if (v instanceof JsonString str) {
                            env.put(k, str.value());
                          } else {
                            s.problems.add(where + ".env." + k + " must be a string");
                          }
                        }),
            () -> env.put("PATH", "/usr/bin:/bin"));
    CliToolConfig config =
        new CliToolConfig(
            s.strings("argv"),
            s.bool("network", false),
            SandboxLimits.DEFAULT,
            env,
            s.strings("read-only-paths"));
    return new SandboxedCliTool(c, config, Bubblewrap.standard(), sandbox, workspaces);
  }

  private static Duration duration(String v) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(\\d{1,9})(ms|s|m|h)").matcher(v.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException("timeout must be a duration such as 500ms, 30s or 5m");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }

  /** A mapping read with its location, collecting problems instead of stopping at the first. */
  static final class Section {
    final String where;
    final JsonObject o;
    final List<String> problems = new ArrayList<>();

    Section(String where, JsonObject o) {
      this.where = where;
      this.o = o;
    }

    void check(Set<String> known) {
      for (String k : o.members().keySet()) {
        if (!known.contains(k)) {
          problems.add(
              "unknown key '"
                  + k
                  + "' in "
                  + where
                  + "; known keys are "
                  + new java.util.TreeSet<>(known));
        }
      }
    }

    String required(String key) {
      Optional<String> v = o.string(key).filter(x -> !x.isBlank());
      if (v.isEmpty()) {
        throw new IllegalArgumentException(key + " is required and must be a string");
      }
      return v.get();
    }

    String string(String key, String dflt) {
      Optional<JsonValue> v = o.get(key);
      if (v.isEmpty()) {
        return dflt;
      }
      return switch (v.get()) {
        case JsonString s -> s.value();
        case JsonNumber n -> n.value().toPlainString();
        default -> {
          problems.add(where + "." + key + " must be a string");
          yield dflt;
        }
      };
    }

    long integer(String key, long dflt) {
      Optional<JsonValue> v = o.get(key);
      if (v.isEmpty()) {
        return dflt;
      }
      if (v.get() instanceof JsonNumber n) {
        try {
          return n.longValueExact();
        } catch (ArithmeticException x) {
          problems.add(where + "." + key + " must be a whole number");
          return dflt;
        }
      }
      if (v.get() instanceof JsonString s && s.value().matches("-?\\d{1,18}")) {
        return Long.parseLong(s.value());
      }
      problems.add(where + "." + key + " must be a whole number");
      return dflt;
    }

    boolean bool(String key, boolean dflt) {
      Optional<JsonValue> v = o.get(key);
      if (v.isEmpty()) {
        return dflt;
      }
      if (v.get() instanceof JsonBool b) {
        return b.value();
      }
      if (v.get() instanceof JsonString s
          && (s.value().equals("true") || s.value().equals("false"))) {
        return Boolean.parseBoolean(s.value());
      }
      problems.add(where + "." + key + " must be true or false");
      return dflt;
    }

    Optional<JsonObject> object(String key) {
      Optional<JsonValue> v = o.get(key);
      if (v.isEmpty()) {
        return Optional.empty();
      }
      if (v.get() instanceof JsonObject x) {
        return Optional.of(x);
      }
      problems.add(where + "." + key + " must be a mapping");
      return Optional.empty();
    }

    List<String> strings(String key) {
      return strings(key, List.of());
    }

    List<String> strings(String key, List<String> dflt) {
      Optional<JsonValue> v = o.get(key);
      if (v.isEmpty()) {
        return dflt;
      }
      if (!(v.get() instanceof JsonArray a)) {
        problems.add(where + "." + key + " must be a list of strings");
        return dflt;
      }
      List<String> out = new ArrayList<>();
      for (JsonValue item : a.items()) {
        switch (item) {
          case JsonString s -> out.add(s.value());
          case JsonNumber n -> out.add(n.value().toPlainString());
          default -> problems.add(where + "." + key + " must be a list of strings");
        }
      }
      return out;
    }
  }
}
