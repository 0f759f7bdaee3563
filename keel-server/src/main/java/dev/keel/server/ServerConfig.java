package dev.keel.server;

import dev.keel.json.JsonLimits;
import java.time.Duration;

/**
 * Tunables of the HTTP API, each named by its configuration key.
 *
 * @param host the interface to bind ({@code server.host})
 * @param port the port, 0 for any free one ({@code server.port})
 * @param maxBodyBytes the largest request body ({@code server.max-body-bytes})
 * @param json bounds on request JSON: depth, string and number lengths ({@code server.json.*})
 * @param keyRate requests per second one key may make ({@code limits.key-rate})
 * @param keyBurst how many requests one key may make at once ({@code limits.key-burst})
 * @param tenantRate requests per second all keys of a tenant may make ({@code limits.tenant-rate})
 * @param tenantBurst how many requests a tenant may make at once ({@code limits.tenant-burst})
 * @param streamsPerKey open event streams one key may hold ({@code limits.streams-per-key})
 * @param streamsTotal open event streams the server holds ({@code limits.streams-total})
 * @param keepAlive the idle time after which a stream gets a comment ({@code server.keep-alive})
 * @param streamPoll how often an idle stream looks for new events ({@code server.stream-poll})
 */
public record ServerConfig(
    String host,
    int port,
    int maxBodyBytes,
    JsonLimits json,
    double keyRate,
    int keyBurst,
    double tenantRate,
    int tenantBurst,
    int streamsPerKey,
    int streamsTotal,
    Duration keepAlive,
    Duration streamPoll) {

  /** Loopback on 8080, 1 MiB bodies, 50 req/s per key, 200 per tenant, 16/1000 streams. */
  public static final ServerConfig DEFAULT =
      new ServerConfig(
          "127.0.0.1",
          8080,
          1 << 20,
          JsonLimits.UNTRUSTED,
          50,
          100,
          200,
          400,
          16,
          1000,
          Duration.ofSeconds(15),
          Duration.ofMillis(50));

  /** Checks every bound is positive. */
  public ServerConfig {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("server.port must be 0..65535, got " + port);
    }
    if (maxBodyBytes < 1024) {
      throw new IllegalArgumentException(
          "server.max-body-bytes must be at least 1024, got " + maxBodyBytes);
    }
    if (keyRate <= 0 || tenantRate <= 0 || keyBurst < 1 || tenantBurst < 1) {
      throw new IllegalArgumentException("limits.*-rate and limits.*-burst must be positive");
    }
    if (streamsPerKey < 1 || streamsTotal < 1) {
      throw new IllegalArgumentException("limits.streams-per-key and streams-total must be >= 1");
    }
  }

  /** A copy on another port. */
  public ServerConfig withPort(int p) {
    return new ServerConfig(
        host,
        p,
        maxBodyBytes,
        json,
        keyRate,
        keyBurst,
        tenantRate,
        tenantBurst,
        streamsPerKey,
        streamsTotal,
        keepAlive,
        streamPoll);
  }

  /** A copy with other rate limits. */
  public ServerConfig withRates(
      double perKey, int keyBurstSize, double perTenant, int tenantBurstSize) {
    return new ServerConfig(
        host,
        port,
        maxBodyBytes,
        json,
        perKey,
        keyBurstSize,
        perTenant,
        tenantBurstSize,
        streamsPerKey,
        streamsTotal,
        keepAlive,
        streamPoll);
  }

  /** A copy with other stream caps. */
  public ServerConfig withStreams(int perKey, int total) {
    return new ServerConfig(
        host,
        port,
        maxBodyBytes,
        json,
        keyRate,
        keyBurst,
        tenantRate,
        tenantBurst,
        perKey,
        total,
        keepAlive,
        streamPoll);
  }
}
