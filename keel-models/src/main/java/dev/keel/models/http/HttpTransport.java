package dev.keel.models.http;

import dev.keel.model.ModelException;
import dev.keel.model.ModelException.Kind;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;
import java.util.Optional;

/**
 * Sends one POST with the JDK {@link HttpClient} and returns the streaming body, or throws a
 * classified {@link ModelException}. Headers are never logged or put into messages, so keys cannot
 * leak from here.
 */
public final class HttpTransport {
  private static final int MAX_ERROR_BODY = 64 * 1024;

  private final String provider;
  private final HttpClient client;
  private final InstantSource clock;

  /** Creates a transport for {@code provider} over {@code client}. */
  public HttpTransport(String provider, HttpClient client, InstantSource clock) {
    this.provider = provider;
    this.client = client;
    this.clock = clock;
  }

  /** A client with {@code connectTimeout}, following no redirects (keys must not follow them). */
  public static HttpClient newClient(Duration connectTimeout) {
    return HttpClient.newBuilder()
        .connectTimeout(connectTimeout)
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
  }

  /**
   * POSTs {@code body} to {@code uri} and returns the response body stream of a 2xx answer.
   *
   * @throws ModelException classified from the status and body, {@code TIMEOUT} when no answer came
   *     in {@code timeout} or the connection broke
   */
  public InputStream post(URI uri, Map<String, String> headers, byte[] body, Duration timeout) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(uri)
            .timeout(timeout)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    headers.forEach(builder::header);
    HttpResponse<InputStream> response;
    try {
      response = client.send(builder.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (HttpTimeoutException e) {
      throw new ModelException(
          Kind.TIMEOUT,
          provider + ": no answer from " + uri.getHost() + " within " + timeout,
          Optional.empty(),
          e);
    } catch (IOException e) {
      throw new ModelException(
          Kind.TIMEOUT,
          provider + ": connection to " + uri.getHost() + ":" + uri.getPort() + " failed: " + e,
          Optional.empty(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ModelException(
          Kind.TIMEOUT,
          provider + ": interrupted while waiting for " + uri.getHost(),
          Optional.empty(),
          e);
    }
    int status = response.statusCode();
    if (status >= 200 && status < 300) {
      return response.body();
    }
    String errorBody;
    try (InputStream in = response.body()) {
      errorBody = new String(in.readNBytes(MAX_ERROR_BODY), StandardCharsets.UTF_8);
    } catch (IOException e) {
      errorBody = "(error body unreadable: " + e.getMessage() + ")";
    }
    throw FailureClassifier.classify(
        provider, status, errorBody, RetryAfter.from(response.headers(), clock));
  }

  /** A {@code TIMEOUT} failure for a stream that broke while being read. */
  public static ModelException brokenStream(String provider, IOException e) {
    return new ModelException(
        Kind.TIMEOUT, provider + ": the stream broke while reading: " + e, Optional.empty(), e);
  }
}
