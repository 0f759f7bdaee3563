package dev.keel.app;

import dev.keel.server.ApiPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Reads the configuration: built-in defaults, then the YAML file, then {@code KEEL_*} environment
 * variables. Every problem is collected and reported with its key, where the value came from and
 * what to do, before anything starts.
 *
 * <p>Secrets are never written in the file: a secret key holds a reference, {@code env:NAME} or
 * {@code file:/path}. A secrets file that group or others can read is refused.
 */
public final class ConfigLoader {
  private static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

  static {
    DEFAULTS.put("home", "./data");
    DEFAULTS.put("server.host", "127.0.0.1");
    DEFAULTS.put("server.port", "8080");
    DEFAULTS.put("server.max-body-bytes", "1048576");
    DEFAULTS.put("store.url", "");
    DEFAULTS.put("store.user", "");
    DEFAULTS.put("store.password", "");
    DEFAULTS.put("store.app-user", "");
    DEFAULTS.put("store.app-password", "");
    DEFAULTS.put("engine.workers", "1");
    DEFAULTS.put("engine.max-runs", "1000");
    DEFAULTS.put("engine.lease-time", "30s");
    DEFAULTS.put("tools.approval-timeout", "7d");
    DEFAULTS.put("shutdown.grace", "30s");
    DEFAULTS.put("limits.key-rate", "50");
    DEFAULTS.put("limits.key-burst", "100");
    DEFAULTS.put("limits.tenant-rate", "200");
    DEFAULTS.put("limits.tenant-burst", "400");
    DEFAULTS.put("limits.streams-per-key", "16");
    DEFAULTS.put("limits.streams-total", "1000");
    DEFAULTS.put("telemetry.otlp_endpoint", "");
    DEFAULTS.put("telemetry.otlp_metrics_interval", "60s");
    DEFAULTS.put("redaction.pii", "false");
    DEFAULTS.put("webhooks.secret", "");
    DEFAULTS.put("webhooks.allow-private", "false");
    DEFAULTS.put("webhooks.backoff", "1s");
    DEFAULTS.put("webhooks.max-attempts", "8");
    DEFAULTS.put("webhooks.lease", "30s");
    DEFAULTS.put("quotas.runs-per-day", "0");
    DEFAULTS.put("quotas.concurrent-runs-per-user", "0");
    DEFAULTS.put("quotas.queue-depth", "0");
    DEFAULTS.put("approvals.four-eyes", "false");
    DEFAULTS.put("probe.interval", "off");
  }

  /** Keys whose whole value is kept as structured JSON (lists and mappings) for the wiring. */
  private static final Set<String> SECTIONS =
      Set.of(
          "tools.http", "tools.cli", "tools.secrets", "tools.tenants", "models", "budgets.tenants");

  private final Map<String, String> values = new LinkedHashMap<>(DEFAULTS);
  private final Map<String, dev.keel.json.JsonValue> sections = new LinkedHashMap<>();
  private final Map<String, String> origins = new LinkedHashMap<>();
  private final List<String> problems = new ArrayList<>();
  private final Map<String, String> env;

  private ConfigLoader(Map<String, String> env) {
    this.env = env;
  }

  /** Every known key. */
  public static Set<String> keys() {
    return DEFAULTS.keySet();
  }

  /** The environment variable that overrides {@code key}. */
  public static String envName(String key) {
    return "KEEL_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  /**
   * Loads and validates the configuration from {@code file} (if given) and {@code env}.
   *
   * @throws ConfigException naming every bad key
   */
  public static KeelConfig load(Optional<Path> file, Map<String, String> env) {
    ConfigLoader l = new ConfigLoader(env);
    file.ifPresent(l::readFile);
    for (String key : DEFAULTS.keySet()) {
      String v = env.get(envName(key));
      if (v != null) {
        l.values.put(key, v);
        l.origins.put(key, "environment variable " + envName(key));
      }
    }
    return l.build();
  }

  private void readFile(Path file) {
    JsonNode root;
    try {
      YAMLMapper yaml =
          YAMLMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
      root = yaml.readTree(Files.readString(file));
    } catch (NoSuchFileException x) {
      problems.add("config file " + file + " does not exist; pass an existing file to --config");
      return;
    } catch (IOException | RuntimeException x) {
      problems.add(
          "config file " + file + " is not valid YAML: " + firstLine(x.getMessage()) + "; fix it");
      return;
    }
    if (root == null || root.isNull() || root.isMissingNode()) {
      return;
    }
    if (!root.isObject()) {
      problems.add("config file " + file + " must be a mapping of keys such as store.url");
      return;
    }
    flatten("", root, file);
  }

  private static String firstLine(String s) {
    return s == null ? "" : s.lines().findFirst().orElse("");
  }

  private void flatten(String prefix, JsonNode node, Path file) {
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String key = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
      JsonNode v = e.getValue();
      if (SECTIONS.contains(key)) {
        try {
          sections.put(
              key, dev.keel.json.JsonParser.parse(v.toString(), dev.keel.json.JsonLimits.TRUSTED));
        } catch (RuntimeException x) {
          problems.add(key + " in " + file + " cannot be read: " + x.getMessage());
        }
      } else if (v.isObject()) {
        flatten(key, v, file);
      } else if (!DEFAULTS.containsKey(key)) {
        problems.add(
            "unknown key '"
                + key
                + "' in "
                + file
                + "; known keys are "
                + String.join(", ", DEFAULTS.keySet()));
      } else if (v.isArray()) {
        problems.add(key + " in " + file + " must be a single value, not a list");
      } else {
        values.put(key, v.isNull() ? "" : v.asString());
        origins.put(key, file.toString());
      }
    }
  }

  private String where(String key) {
    return origins.getOrDefault(key, "the defaults");
  }

  private void bad(String key, String message) {
    problems.add(key + " (from " + where(key) + ") " + message + ", got '" + values.get(key) + "'");
  }

  private int integer(String key, int min, int max) {
    try {
      int n = Integer.parseInt(values.get(key).strip());
      if (n < min || n > max) {
        bad(key, "must be between " + min + " and " + max);
      }
      return n;
    } catch (NumberFormatException x) {
      bad(key, "must be a whole number");
      return min;
    }
  }

  private double decimal(String key) {
    try {
      double d = Double.parseDouble(values.get(key).strip());
      if (!(d > 0) || Double.isInfinite(d)) {
        bad(key, "must be a positive number");
        return 1;
      }
      return d;
    } catch (NumberFormatException x) {
      bad(key, "must be a number");
      return 1;
    }
  }

  private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");

  private Duration offOrDuration(String key) {
    String v = values.get(key).strip();
    return v.equals("off") || v.equals("0") ? Duration.ZERO : duration(key);
  }

  private Duration duration(String key) {
    String v = values.get(key).strip();
    Matcher m = DURATION.matcher(v);
    Duration d;
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      d =
          switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
          };
    } else {
      try {
        d = Duration.parse(v);
      } catch (DateTimeParseException x) {
        bad(key, "must be a duration such as 500ms, 30s, 5m, 2h or 7d");
        return Duration.ofSeconds(1);
      }
    }
    if (d.isNegative() || d.isZero()) {
      bad(key, "must be positive");
      return Duration.ofSeconds(1);
    }
    return d;
  }

  /** Resolves a secret reference; the literal value itself is never accepted. */
  private String otlpEndpoint() {
    String v = values.get("telemetry.otlp_endpoint").strip();
    if (v.isEmpty()) {
      v = env.getOrDefault("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip();
    }
    if (!v.isEmpty() && !v.matches("https?://[^\\s/]+(/\\S*)?")) {
      bad("telemetry.otlp_endpoint", "must be an http(s) URL such as http://localhost:4318");
    }
    return v;
  }

  private boolean bool(String key) {
    String v = values.get(key).strip().toLowerCase(Locale.ROOT);
    if (!v.equals("true") && !v.equals("false")) {
      bad(key, "must be true or false");
    }
    return v.equals("true");
  }

  private String secret(String key) {
    String v = values.get(key).strip();
    if (v.isEmpty()) {
      return "";
    }
    if (v.startsWith("env:")) {
      String name = v.substring(4);
      String s = env.get(name);
      if (s == null) {
        problems.add(
            key
                + " (from "
                + where(key)
                + ") refers to environment variable "
                + name
                + ", which is not set; set it or change the reference");
        return "";
      }
      return s;
    }
    if (v.startsWith("file:")) {
      return secretFile(key, Path.of(v.substring(5)));
    }
    problems.add(
        key
            + " (from "
            + where(key)
            + ") must be a reference, env:NAME or file:/path, not the secret itself;"
            + " move the secret into an environment variable or a file readable only by Keel");
    return "";
  }

  private String secretFile(String key, Path file) {
    try {
      if (!Files.isRegularFile(file)) {
        problems.add(
            key + " refers to " + file + ", which is not a file; create it or fix the path");
        return "";
      }
      try {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        if (perms.contains(PosixFilePermission.GROUP_READ)
            || perms.contains(PosixFilePermission.OTHERS_READ)
            || perms.contains(PosixFilePermission.GROUP_WRITE)
            || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
          problems.add(
              key
                  + " refers to secrets file "
                  + file
                  + ", which group or others can read (mode "
                  + java.nio.file.attribute.PosixFilePermissions.toString(perms)
                  + "); run: chmod 600 "
                  + file);
          return "";
        }
      } catch (UnsupportedOperationException x) {
        // Not a POSIX file system: nothing to check.
      }
      return Files.readString(file).strip();
    } catch (IOException x) {
      problems.add(key + " refers to " + file + ", which cannot be read: " + x.getMessage());
      return "";
    }
  }

  private ApiPolicy policy() {
    Duration lease = duration("webhooks.lease");
    if (lease.toMillis() < 1000) {
      bad("webhooks.lease", "must be at least 1s");
      lease = Duration.ofSeconds(1);
    }
    // Out-of-range values are reported by integer(); clamp them so the record can be built and
    // every problem is listed together.
    return new ApiPolicy(
        secret("webhooks.secret"),
        bool("webhooks.allow-private"),
        duration("webhooks.backoff"),
        Math.max(1, integer("webhooks.max-attempts", 1, 100)),
        lease,
        Math.max(0, integer("quotas.runs-per-day", 0, Integer.MAX_VALUE)),
        Math.max(0, integer("quotas.concurrent-runs-per-user", 0, 1_000_000)),
        Math.max(0, integer("quotas.queue-depth", 0, Integer.MAX_VALUE)),
        bool("approvals.four-eyes"));
  }

  private KeelConfig build() {
    Path home = Path.of(values.get("home").isBlank() ? "./data" : values.get("home").strip());
    String url = values.get("store.url").strip();
    if (url.isEmpty()) {
      url = "jdbc:sqlite:" + home.toAbsolutePath().normalize().resolve("keel.db");
    } else if (!url.startsWith("jdbc:sqlite:") && !url.startsWith("jdbc:postgresql:")) {
      bad("store.url", "must be jdbc:sqlite:<file> or jdbc:postgresql://<host>/<database>");
    }
    String host = values.get("server.host").strip();
    if (host.isEmpty()) {
      bad("server.host", "must name an interface such as 127.0.0.1 or 0.0.0.0");
    }
    String appUser = values.get("store.app-user").strip();
    String appPassword = secret("store.app-password");
    if (!appUser.isEmpty()) {
      if (!url.startsWith("jdbc:postgresql:")) {
        bad("store.app-user", "is for PostgreSQL only; SQLite has no roles (remove it)");
      } else if (appUser.equals(values.get("store.user").strip())) {
        bad(
            "store.app-user",
            "must differ from store.user: the application role must not own the tables");
      } else if (!appUser.matches("[A-Za-z_][A-Za-z0-9_]{0,62}")) {
        bad("store.app-user", "must be a PostgreSQL role name (letters, digits, _)");
      }
      sections.put(
          "store.app", dev.keel.json.JsonValue.object("user", appUser, "password", appPassword));
    } else if (!appPassword.isEmpty()) {
      bad("store.app-password", "is set but store.app-user is not");
    }
    KeelConfig c =
        new KeelConfig(
            home,
            host,
            integer("server.port", 0, 65535),
            integer("server.max-body-bytes", 1024, 64 << 20),
            url,
            values.get("store.user").strip(),
            secret("store.password"),
            integer("engine.workers", 0, 64),
            integer("engine.max-runs", 1, 100_000),
            duration("engine.lease-time"),
            duration("tools.approval-timeout"),
            duration("shutdown.grace"),
            decimal("limits.key-rate"),
            integer("limits.key-burst", 1, 1_000_000),
            decimal("limits.tenant-rate"),
            integer("limits.tenant-burst", 1, 1_000_000),
            integer("limits.streams-per-key", 1, 100_000),
            integer("limits.streams-total", 1, 1_000_000),
            new dev.keel.json.JsonValue.JsonObject(sections),
            otlpEndpoint(),
            duration("telemetry.otlp_metrics_interval"),
            bool("redaction.pii"),
            policy(),
            offOrDuration("probe.interval"));
    if (c.leaseTime().toMillis() < 50) {
      bad("engine.lease-time", "must be at least 50ms");
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return c;
  }
}
