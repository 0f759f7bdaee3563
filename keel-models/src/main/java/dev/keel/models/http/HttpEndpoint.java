package dev.keel.models.http;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Where and how an adapter reaches its provider.
 *
 * @param provider the provider name used in errors and routing, such as {@code openai}
 * @param baseUrl the API root, such as {@code https://api.openai.com/v1}; paths are appended
 * @param apiKey where the key comes from
 * @param connectTimeout how long to wait for a connection
 * @param requestTimeout how long to wait for the response headers (a tier timeout bounds the body)
 * @param headers extra headers sent with every request (organisation ids, versions)
 */
public record HttpEndpoint(
    String provider,
    URI baseUrl,
    SecretRef apiKey,
    Duration connectTimeout,
    Duration requestTimeout,
    Map<String, String> headers) {

  /** Checks the fields and copies the headers. */
  public HttpEndpoint {
    if (provider.isBlank()) {
      throw new IllegalArgumentException("endpoint provider name must not be blank");
    }
    Objects.requireNonNull(baseUrl, "baseUrl");
    Objects.requireNonNull(apiKey, "apiKey");
    if (connectTimeout.isNegative() || connectTimeout.isZero()) {
      throw new IllegalArgumentException(provider + ": connectTimeout must be positive");
    }
    if (requestTimeout.isNegative() || requestTimeout.isZero()) {
      throw new IllegalArgumentException(provider + ": requestTimeout must be positive");
    }
    headers = Map.copyOf(headers);
  }

  /** An endpoint with 10 s connect and 60 s request timeouts and no extra headers. */
  public static HttpEndpoint of(String provider, String baseUrl, SecretRef apiKey) {
    return new HttpEndpoint(
        provider,
        URI.create(baseUrl),
        apiKey,
        Duration.ofSeconds(10),
        Duration.ofSeconds(60),
        Map.of());
  }

  /** The same endpoint with another request timeout. */
  public HttpEndpoint withRequestTimeout(Duration timeout) {
    return new HttpEndpoint(provider, baseUrl, apiKey, connectTimeout, timeout, headers);
  }

  /** Resolves {@code path} (with or without a leading slash) against the base URL. */
  public URI resolve(String path) {
    String base = baseUrl.toString();
    String trimmed = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    return URI.create(trimmed + (path.startsWith("/") ? path : "/" + path));
  }

  /**
   * The key, required.
   *
   * @throws dev.keel.model.ModelException {@code AUTHENTICATION} naming the source when it is empty
   */
  public String requireKey() {
    return apiKey
        .resolve()
        .orElseThrow(
            () ->
                new dev.keel.model.ModelException(
                    dev.keel.model.ModelException.Kind.AUTHENTICATION,
                    provider
                        + ": no API key found in "
                        + apiKey.describe()
                        + "; set it or configure another secret reference"));
  }
}
