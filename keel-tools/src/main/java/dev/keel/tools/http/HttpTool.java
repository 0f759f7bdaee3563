package dev.keel.tools.http;

import dev.keel.json.JsonLimits;
import dev.keel.json.JsonParseException;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolResult;
import dev.keel.tools.ContractedTool;
import dev.keel.tools.Redactor;
import dev.keel.tools.ToolContract;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import javax.net.ssl.SSLContext;

/**
 * A tool that makes one HTTP request declared in configuration, behind an {@link SsrfGuard}.
 *
 * <p>Implementation notes: path placeholders and query parameters are filled from the arguments
 * (percent-encoded, so an argument cannot change the host or add a path segment); for methods with
 * a body the remaining arguments are sent as a JSON object. Secret references in headers are
 * resolved at call time and registered with the redactor so they never reach an audit event or the
 * model. The call's idempotency key is sent as {@code Idempotency-Key}. Every hop, redirects
 * included, is checked and pinned by the guard; headers holding secrets are dropped when a redirect
 * leaves the original host; a 303 (or a 301/302 after a POST) continues as a GET. Status 408, 425,
 * 429 and 5xx are retryable failures, other 4xx are not.
 */
public final class HttpTool implements ContractedTool {
  private static final Set<String> BODY_METHODS = Set.of("POST", "PUT", "PATCH");

  private final ToolContract contract;
  private final HttpToolConfig config;
  private final SsrfGuard guard;
  private final SecretResolver secrets;
  private final Redactor redactor;
  private final PinnedHttpClient client;

  /**
   * Creates an HTTP tool.
   *
   * @throws IllegalArgumentException if a path placeholder or query argument is not a required
   *     string-or-number property of the input schema's properties
   */
  public HttpTool(
      ToolContract contract,
      HttpToolConfig config,
      DnsResolver resolver,
      SecretResolver secrets,
      Redactor redactor) {
    this(contract, config, resolver, secrets, redactor, defaultTls());
  }

  /** Creates an HTTP tool that trusts {@code tls}'s certificates (tests use a private CA). */
  public HttpTool(
      ToolContract contract,
      HttpToolConfig config,
      DnsResolver resolver,
      SecretResolver secrets,
      Redactor redactor,
      SSLContext tls) {
    this.contract = Objects.requireNonNull(contract, "contract");
    this.config = Objects.requireNonNull(config, "config");
    this.secrets = Objects.requireNonNull(secrets, "secrets");
    this.redactor = Objects.requireNonNull(redactor, "redactor");
    this.guard =
        new SsrfGuard(
            config.allowedHosts(),
            config.allowedRanges().stream().map(Cidr::parse).toList(),
            config.allowPlainHttp(),
            resolver);
    this.client = new PinnedHttpClient(tls);
    JsonObject props =
        contract.spec().inputSchema().get("properties").orElse(JsonValue.EMPTY_OBJECT)
                instanceof JsonObject o
            ? o
            : JsonValue.EMPTY_OBJECT;
    List<String> needed = new ArrayList<>(config.pathArguments());
    needed.addAll(config.queryArguments());
    for (String n : needed) {
      if (props.get(n).isEmpty()) {
        throw new IllegalArgumentException(
            "http tool "
                + contract.name()
                + ": argument '"
                + n
                + "' used in the URL is not declared in inputSchema.properties");
      }
    }
  }

  private static SSLContext defaultTls() {
    try {
      return SSLContext.getDefault();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no default TLS context", e);
    }
  }

  @Override
  public ToolContract contract() {
    return contract;
  }

  @Override
  public ToolResult invoke(ToolInvocation inv) throws InterruptedException {
    JsonObject args = inv.arguments();
    URI uri;
    try {
      uri = buildUri(args);
    } catch (IllegalArgumentException | URISyntaxException e) {
      return new ToolResult.Failure(
          "invalid_arguments",
          false,
          "cannot build the URL: " + e.getMessage(),
          "Fix the arguments.");
    }
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    Set<String> secretHeaders = new HashSet<>();
    for (Map.Entry<String, String> h : config.headers().entrySet()) {
      Matcher m = HttpToolConfig.SECRET_REF.matcher(h.getValue());
      StringBuilder value = new StringBuilder();
      boolean secret = false;
      while (m.find()) {
        Optional<String> s = secrets.resolve(m.group(1));
        if (s.isEmpty()) {
          return new ToolResult.Failure(
              "configuration_error",
              false,
              "secret '" + m.group(1) + "' for header " + h.getKey() + " is not configured",
              "Tell an operator; the tool cannot run without it.");
        }
        redactor.addSecret(s.get());
        m.appendReplacement(value, Matcher.quoteReplacement(s.get()));
        secret = true;
      }
      m.appendTail(value);
      headers.add(new AbstractMap.SimpleImmutableEntry<>(h.getKey(), value.toString()));
      if (secret) {
        secretHeaders.add(h.getKey());
      }
    }
    headers.add(new AbstractMap.SimpleImmutableEntry<>("Idempotency-Key", inv.idempotencyKey()));
    headers.add(
        new AbstractMap.SimpleImmutableEntry<>("Accept", "application/json, text/plain;q=0.5"));
    String method = config.method();
    byte[] body = new byte[0];
    if (BODY_METHODS.contains(method)) {
      body = bodyOf(args).toString().getBytes(StandardCharsets.UTF_8);
      headers.add(new AbstractMap.SimpleImmutableEntry<>("Content-Type", "application/json"));
    }
    String originalHost = uri.getHost();
    for (int hop = 0; hop <= config.maxRedirects(); hop++) {
      SsrfGuard.Decision d = guard.check(uri);
      if (d instanceof SsrfGuard.Blocked b) {
        return new ToolResult.Failure(
            "egress_blocked",
            false,
            (hop == 0 ? "" : "redirect " + hop + " ") + "blocked: " + b.reason(),
            "Do not retry; only the tool's allowed hosts can be reached.");
      }
      SsrfGuard.Pinned target = (SsrfGuard.Pinned) d;
      PinnedHttpClient.Response r;
      try {
        r =
            client.send(
                target,
                method,
                headers,
                body,
                contract.spec().timeout(),
                config.maxResponseBytes());
      } catch (IOException e) {
        if (Thread.currentThread().isInterrupted()) {
          throw new InterruptedException("HTTP call of " + contract.name() + " interrupted");
        }
        return new ToolResult.Failure(
            "network_error",
            true,
            "request to "
                + target.host()
                + " failed: "
                + e.getClass().getSimpleName()
                + ": "
                + e.getMessage(),
            "Retry later.");
      } catch (IllegalArgumentException e) {
        return new ToolResult.Failure(
            "invalid_request", false, e.getMessage(), "Fix the arguments.");
      }
      Optional<String> location = r.header("location");
      if (r.status() / 100 == 3 && location.isPresent() && r.status() != 304) {
        try {
          uri = uri.resolve(new URI(location.get().trim()));
        } catch (URISyntaxException e) {
          return new ToolResult.Failure("bad_redirect", false, "invalid Location header", "");
        }
        if (r.status() == 303
            || ((r.status() == 301 || r.status() == 302)
                && !method.equals("GET")
                && !method.equals("HEAD"))) {
          method = "GET";
          body = new byte[0];
          headers.removeIf(h -> h.getKey().equals("Content-Type"));
        }
        if (!Objects.equals(uri.getHost(), originalHost)) {
          headers.removeIf(h -> secretHeaders.contains(h.getKey()));
        }
        continue;
      }
      return map(r);
    }
    return new ToolResult.Failure(
        "too_many_redirects",
        false,
        "more than " + config.maxRedirects() + " redirects",
        "Do not retry.");
  }

  private URI buildUri(JsonObject args) throws URISyntaxException {
    Matcher whole = HttpToolConfig.WHOLE_URL.matcher(config.urlTemplate());
    if (whole.matches()) {
      return new URI(scalar(args, whole.group(1)));
    }
    Matcher m = HttpToolConfig.PLACEHOLDER.matcher(config.urlTemplate());
    StringBuilder url = new StringBuilder();
    while (m.find()) {
      String value = scalar(args, m.group(1));
      m.appendReplacement(url, Matcher.quoteReplacement(encode(value)));
    }
    m.appendTail(url);
    List<String> query = new ArrayList<>();
    for (String q : config.queryArguments()) {
      if (args.get(q).isPresent()) {
        query.add(encode(q) + "=" + encode(scalar(args, q)));
      }
    }
    if (!query.isEmpty()) {
      url.append(url.indexOf("?") >= 0 ? "&" : "?").append(String.join("&", query));
    }
    return new URI(url.toString());
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String scalar(JsonObject args, String name) {
    JsonValue v =
        args.get(name).orElseThrow(() -> new IllegalArgumentException("/" + name + " is missing"));
    return switch (v) {
      case JsonValue.JsonString s -> s.value();
      case JsonValue.JsonNumber n -> n.value().toPlainString();
      case JsonValue.JsonBool b -> Boolean.toString(b.value());
      default -> throw new IllegalArgumentException("/" + name + " must be a string or number");
    };
  }

  private JsonObject bodyOf(JsonObject args) {
    Set<String> used = new HashSet<>(config.pathArguments());
    used.addAll(config.queryArguments());
    Map<String, JsonValue> out = new LinkedHashMap<>();
    args.members()
        .forEach(
            (k, v) -> {
              if (!used.contains(k)) {
                out.put(k, v);
              }
            });
    return new JsonObject(out);
  }

  private ToolResult map(PinnedHttpClient.Response r) {
    String text = new String(r.body(), StandardCharsets.UTF_8);
    boolean json =
        r.header("content-type")
            .map(t -> t.toLowerCase(java.util.Locale.ROOT).contains("json"))
            .orElse(false);
    JsonValue parsed = JsonValue.of(text);
    if (json && !r.truncated()) {
      try {
        parsed = pointer(JsonParser.parse(text, JsonLimits.UNTRUSTED), config.responsePointer());
      } catch (JsonParseException e) {
        parsed = JsonValue.of(text);
      }
    }
    int s = r.status();
    if (s / 100 == 2) {
      JsonObject data = JsonValue.object("status", s, "body", parsed);
      return new ToolResult.Success(r.truncated() ? data.with("truncated", JsonValue.TRUE) : data);
    }
    boolean retryable = s == 408 || s == 425 || s == 429 || s / 100 == 5;
    String snippet = text.length() > 500 ? text.substring(0, 500) + "..." : text;
    return new ToolResult.Failure(
        "http_" + s,
        retryable,
        "the server answered " + s + ": " + snippet,
        retryable
            ? "Retry later."
            : "Check the arguments; repeating the same call will fail again.");
  }

  private static JsonValue pointer(JsonValue root, String pointer) {
    if (pointer.isEmpty()) {
      return root;
    }
    JsonValue cur = root;
    for (String raw : pointer.substring(1).split("/", -1)) {
      String token = raw.replace("~1", "/").replace("~0", "~");
      cur =
          switch (cur) {
            case JsonObject o -> o.get(token).orElse(JsonValue.NULL);
            case JsonValue.JsonArray a -> {
              try {
                int i = Integer.parseInt(token);
                yield i >= 0 && i < a.items().size() ? a.items().get(i) : JsonValue.NULL;
              } catch (NumberFormatException e) {
                yield JsonValue.NULL;
              }
            }
            default -> JsonValue.NULL;
          };
    }
    return cur;
  }
}
