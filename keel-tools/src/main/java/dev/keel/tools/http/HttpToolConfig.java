package dev.keel.tools.http;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An HTTP tool as declared in configuration.
 *
 * @param method GET, POST, PUT, PATCH, DELETE or HEAD
 * @param urlTemplate the URL with {@code {argument}} placeholders in the path, filled from the
 *     arguments with percent-encoding, such as {@code https://api.example.com/v1/accounts/{id}}; or
 *     exactly {@code {argument}} for a fetch tool whose whole URL is an argument (the host
 *     allowlist and the SSRF guard still decide what it may reach)
 * @param headers extra request headers; a value may reference secrets as {@code ${secret:NAME}},
 *     resolved at call time and never stored or logged
 * @param queryArguments arguments sent as query parameters
 * @param responsePointer JSON pointer to the part of a JSON response the tool returns ("" for all)
 * @param allowedHosts hosts the tool may reach (exact or {@code *.suffix}); redirects included
 * @param allowedRanges CIDR ranges exempt from the private-address block list
 * @param allowPlainHttp whether {@code http://} is allowed besides {@code https://}
 * @param maxResponseBytes the largest response body read
 * @param maxRedirects redirects followed at most, each checked again
 */
public record HttpToolConfig(
    String method,
    String urlTemplate,
    Map<String, String> headers,
    List<String> queryArguments,
    String responsePointer,
    Set<String> allowedHosts,
    List<String> allowedRanges,
    boolean allowPlainHttp,
    int maxResponseBytes,
    int maxRedirects) {

  static final Pattern PLACEHOLDER = Pattern.compile("\\{([A-Za-z_][A-Za-z0-9_]*)\\}");
  static final Pattern WHOLE_URL = Pattern.compile("\\{([A-Za-z_][A-Za-z0-9_]*)\\}");
  static final Pattern SECRET_REF = Pattern.compile("\\$\\{secret:([A-Za-z0-9_.-]+)\\}");
  private static final Set<String> METHODS =
      Set.of("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD");

  /** Validates the declaration. */
  public HttpToolConfig {
    Objects.requireNonNull(method, "method");
    if (!METHODS.contains(method)) {
      throw new IllegalArgumentException(
          "http.method must be one of " + METHODS + ", got " + method);
    }
    Objects.requireNonNull(urlTemplate, "urlTemplate");
    if (!WHOLE_URL.matcher(urlTemplate).matches()
        && !urlTemplate.startsWith("https://")
        && !urlTemplate.startsWith("http://")) {
      throw new IllegalArgumentException("http.urlTemplate must be an http(s) URL: " + urlTemplate);
    }
    int authorityEnd =
        WHOLE_URL.matcher(urlTemplate).matches()
            ? 0
            : urlTemplate.indexOf('/', urlTemplate.indexOf("//") + 2);
    String authority =
        authorityEnd < 0 ? urlTemplate : urlTemplate.substring(0, Math.max(0, authorityEnd));
    if (PLACEHOLDER.matcher(authority).find()) {
      throw new IllegalArgumentException(
          "http.urlTemplate may have placeholders only in the path, not the host: " + urlTemplate);
    }
    headers = Map.copyOf(Objects.requireNonNull(headers, "headers"));
    headers.forEach(
        (k, v) -> {
          String plain = SECRET_REF.matcher(v).replaceAll("x");
          PinnedHttpClient.checkHeader(k, plain);
        });
    queryArguments = List.copyOf(queryArguments);
    Objects.requireNonNull(responsePointer, "responsePointer");
    if (!responsePointer.isEmpty() && !responsePointer.startsWith("/")) {
      throw new IllegalArgumentException(
          "http.responsePointer must be empty or start with '/': " + responsePointer);
    }
    allowedHosts = Set.copyOf(allowedHosts);
    if (allowedHosts.isEmpty()) {
      throw new IllegalArgumentException("http.allowedHosts must name at least one host");
    }
    allowedRanges = List.copyOf(allowedRanges);
    allowedRanges.forEach(Cidr::parse);
    if (maxResponseBytes < 1024 || maxRedirects < 0 || maxRedirects > 10) {
      throw new IllegalArgumentException(
          "http.maxResponseBytes must be >= 1024 and maxRedirects 0..10, got "
              + maxResponseBytes
              + " and "
              + maxRedirects);
    }
  }

  /** A GET of {@code urlTemplate} restricted to the URL's own host, with safe defaults. */
  public static HttpToolConfig get(String urlTemplate, String host) {
    return new HttpToolConfig(
        "GET", urlTemplate, Map.of(), List.of(), "", Set.of(host), List.of(), false, 1 << 20, 3);
  }

  /** The names of the path placeholders. */
  public List<String> pathArguments() {
    Matcher m = PLACEHOLDER.matcher(urlTemplate);
    List<String> names = new java.util.ArrayList<>();
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }
}
