package dev.keel.server;

/**
 * Where the server reports every request it answered, for a metrics registry shared with the engine
 * (keel-app plugs in keel-observe's {@code HttpMeters}, so the HTTP meters are scraped and pushed
 * over OTLP with the rest). Called on the request's thread after the answer; must not block.
 */
@FunctionalInterface
public interface RequestMeter {
  /**
   * One answered request.
   *
   * @param method the HTTP method
   * @param route the route's pattern ({@code /v1/runs/{id}}), never the raw path
   * @param status the status answered (200 for an event stream, when it ends)
   * @param nanos how long it took, a stream's whole life included
   */
  void answered(String method, String route, int status, long nanos);
}
