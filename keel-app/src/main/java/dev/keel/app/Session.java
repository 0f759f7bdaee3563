package dev.keel.app;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/**
 * Where a client command talks: a named server ({@code --server} or {@code KEEL_SERVER}), a server
 * already running on this machine's configured port, or else an embedded runtime on the local
 * store, started for the command and drained when it ends.
 */
final class Session implements AutoCloseable {
  final ApiClient client;
  final Optional<KeelRuntime> embedded;

  private Session(ApiClient client, Optional<KeelRuntime> embedded) {
    this.client = client;
    this.embedded = embedded;
  }

  static Session open(Ctx ctx, Ctx.Global g) {
    KeelConfig cfg = ctx.config(g);
    Optional<String> named = g.server.or(() -> Optional.ofNullable(ctx.env.get("KEEL_SERVER")));
    if (named.isPresent()) {
      return new Session(new ApiClient(named.get(), ctx.token(cfg)), Optional.empty());
    }
    String local = "http://127.0.0.1:" + cfg.serverPort();
    if (cfg.serverPort() > 0 && alive(local)) {
      return new Session(new ApiClient(local, ctx.token(cfg)), Optional.empty());
    }
    KeelRuntime rt;
    try {
      rt = KeelRuntime.serve(cfg.withPort(0).withHost("127.0.0.1"));
    } catch (RuntimeException x) {
      throw new CliException(
          CliException.UNREACHABLE,
          "cannot open the local store " + cfg.redactedStoreUrl() + ": " + x.getMessage());
    }
    try {
      String base = "http://127.0.0.1:" + rt.server().orElseThrow().port();
      return new Session(new ApiClient(base, ctx.token(cfg)), Optional.of(rt));
    } catch (RuntimeException x) {
      rt.close();
      throw x;
    }
  }

  private static boolean alive(String base) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(300)).build();
    try {
      HttpResponse<Void> r =
          http.send(
              HttpRequest.newBuilder(URI.create(base + "/healthz"))
                  .timeout(Duration.ofMillis(800))
                  .build(),
              HttpResponse.BodyHandlers.discarding());
      return r.statusCode() == 200;
    } catch (java.io.IOException x) {
      return false;
    } catch (InterruptedException x) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public void close() {
    embedded.ifPresent(KeelRuntime::close);
  }
}
