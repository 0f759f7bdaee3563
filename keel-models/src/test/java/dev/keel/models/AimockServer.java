package dev.keel.models;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts the real {@code @copilotkit/aimock} server (pinned in {@code keel-models/aimock}) on a
 * free loopback port, waits until {@code /health} answers, and stops it on close.
 */
public final class AimockServer implements AutoCloseable {
  private final Process process;
  private final int port;
  private final Path log;

  private AimockServer(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /** Starts aimock with the fixtures in {@code aimock/fixtures}. */
  public static AimockServer start() throws IOException, InterruptedException {
    return start(List.of());
  }

  /** Starts aimock with the fixtures in {@code aimock/fixtures} and {@code extraArgs}. */
  public static AimockServer start(List<String> extraArgs)
      throws IOException, InterruptedException {
    Path dir = moduleDir().resolve("aimock");
    Path bin = dir.resolve("node_modules/.bin/llmock");
    if (!Files.isExecutable(bin)) {
      throw new IllegalStateException(
          "aimock is not installed: "
              + bin
              + " is missing. Run `npm ci --prefix keel-models/aimock` from the repository root first.");
    }
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Path log = Files.createTempFile("aimock-", ".log");
    List<String> command =
        new java.util.ArrayList<>(
            List.of(
                bin.toString(),
                "-p",
                String.valueOf(port),
                "-h",
                "127.0.0.1",
                "-f",
                dir.resolve("fixtures").toString(),
                "--log-level",
                "warn"));
    command.addAll(extraArgs);
    Process p =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    AimockServer server = new AimockServer(p, port, log);
    server.awaitReady();
    return server;
  }

  private static Path moduleDir() {
    Path cwd = Path.of("").toAbsolutePath();
    return Files.isDirectory(cwd.resolve("aimock")) ? cwd : cwd.resolve("keel-models");
  }

  private void awaitReady() throws IOException, InterruptedException {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    Instant deadline = Instant.now().plusSeconds(30);
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "aimock exited with " + process.exitValue() + ": " + Files.readString(log));
      }
      try {
        HttpResponse<String> r =
            client.send(
                HttpRequest.newBuilder(baseUrl().resolve("/health")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    close();
    throw new IllegalStateException(
        "aimock did not answer /health within 30 s: " + Files.readString(log));
  }

  /** The server's root URL. */
  public URI baseUrl() {
    return URI.create("http://127.0.0.1:" + port);
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
