package dev.keel.tools.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolResult;
import dev.keel.tools.Availability;
import dev.keel.tools.Redactor;
import dev.keel.tools.ToolContract;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTPS through the pinned client: the TCP connection goes to the pinned address while the
 * certificate is verified for the checked host name, so a name the certificate does not cover fails
 * even though it resolves to the same server.
 */
class PinnedTlsTest {
  @TempDir Path dir;
  private HttpsServer server;
  private SSLContext clientTls;

  @BeforeEach
  void start() throws Exception {
    Path ks = dir.resolve("ks.p12");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "upstream",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=upstream.test",
                "-ext",
                "SAN=dns:upstream.test",
                "-validity",
                "2",
                "-keystore",
                ks.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                "changeit")
            .redirectErrorStream(true)
            .start();
    p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(ks)) {
      store.load(in, "changeit".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(store, "changeit".toCharArray());
    SSLContext serverTls = SSLContext.getInstance("TLS");
    serverTls.init(kmf.getKeyManagers(), null, null);
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(store);
    clientTls = SSLContext.getInstance("TLS");
    clientTls.init(null, tmf.getTrustManagers(), null);
    server = HttpsServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0), 10);
    server.setHttpsConfigurator(new HttpsConfigurator(serverTls));
    server.createContext(
        "/",
        ex -> {
          byte[] body = "{\"ok\":true}".getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().add("Content-Type", "application/json");
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private ToolResult fetch(String url) throws InterruptedException {
    HttpTool tool =
        new HttpTool(
            ToolContract.builder("web.fetch")
                .availability(Availability.EVERYONE)
                .inputSchema(
                    (JsonObject)
                        JsonParser.parse(
                            "{\"type\":\"object\",\"properties\":{\"url\":{\"type\":\"string\"}}}"))
                .build(),
            new HttpToolConfig(
                "GET",
                "{url}",
                Map.of(),
                List.of(),
                "",
                Set.of("upstream.test", "impostor.test"),
                List.of("127.0.0.2/32"),
                false,
                4096,
                0),
            host -> List.of(InetAddress.getByName("127.0.0.2")),
            n -> Optional.empty(),
            new Redactor(List.of()),
            clientTls);
    return tool.invoke(
        new ToolInvocation("acme", "run_1", "c1", "k1", JsonValue.object("url", url), 1));
  }

  @Test
  void verifiesTheCertificateForTheCheckedNameWhileConnectingToThePinnedAddress() throws Exception {
    int port = server.getAddress().getPort();
    assertThat(fetch("https://upstream.test:" + port + "/")).isInstanceOf(ToolResult.Success.class);
    assertThat(fetch("https://impostor.test:" + port + "/"))
        .isInstanceOfSatisfying(
            ToolResult.Failure.class, f -> assertThat(f.type()).isEqualTo("network_error"));
  }
}
