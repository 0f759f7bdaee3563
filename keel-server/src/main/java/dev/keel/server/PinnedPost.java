package dev.keel.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * One HTTP/1.1 POST to an address resolved and checked beforehand, so what was checked is what is
 * called: no second lookup between the SSRF check and the connection (DNS rebinding). For https the
 * TLS session still names and verifies the URL's host (SNI and certificate hostname check), so
 * pinning the address does not weaken the certificate check.
 *
 * <p>Implementation notes. A deliberately small client: it sends the request with {@code
 * Connection: close} and reads only the status line; redirects are not followed (the status is the
 * answer). The JDK {@code HttpClient} cannot be given an address for a host, and connecting it to
 * the IP literal would break SNI and hostname verification.
 */
final class PinnedPost {
  private PinnedPost() {}

  /**
   * POSTs {@code body} to {@code uri} by connecting to {@code address} and returns the status code.
   *
   * @throws IOException if the connection, the TLS handshake or the exchange fails or times out
   */
  static int post(
      URI uri,
      InetAddress address,
      Map<String, String> headers,
      String body,
      Duration connectTimeout,
      Duration timeout)
      throws IOException {
    boolean tls = "https".equalsIgnoreCase(uri.getScheme());
    String host = uri.getHost();
    String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    int port = uri.getPort() != -1 ? uri.getPort() : tls ? 443 : 80;
    byte[] payload = body.getBytes(StandardCharsets.UTF_8);
    Socket raw = new Socket();
    try {
      raw.connect(new InetSocketAddress(address, port), (int) connectTimeout.toMillis());
      raw.setSoTimeout((int) timeout.toMillis());
      Socket s = raw;
      if (tls) {
        SSLSocket ssl =
            (SSLSocket)
                ((SSLSocketFactory) SSLSocketFactory.getDefault())
                    .createSocket(raw, bare, port, true);
        SSLParameters p = ssl.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        ssl.setSSLParameters(p);
        ssl.startHandshake();
        s = ssl;
      }
      StringBuilder head = new StringBuilder();
      String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
      head.append("POST ").append(path);
      if (uri.getRawQuery() != null) {
        head.append('?').append(uri.getRawQuery());
      }
      head.append(" HTTP/1.1\r\nHost: ").append(host);
      if (uri.getPort() != -1) {
        head.append(':').append(port);
      }
      head.append("\r\n");
      for (Map.Entry<String, String> h : headers.entrySet()) {
        if (h.getValue().indexOf('\r') >= 0 || h.getValue().indexOf('\n') >= 0) {
          throw new IllegalArgumentException("header " + h.getKey() + " contains a line break");
        }
        head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
      }
      head.append("Content-Length: ").append(payload.length).append("\r\n");
      head.append("Connection: close\r\n\r\n");
      OutputStream out = s.getOutputStream();
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.write(payload);
      out.flush();
      return status(s.getInputStream());
    } finally {
      raw.close();
    }
  }

  /** The code of an {@code HTTP/1.x NNN reason} status line. */
  private static int status(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1 && b != '\n') {
      if (line.size() >= 1024) {
        throw new IOException("the receiver's status line is longer than 1024 bytes");
      }
      line.write(b);
    }
    String s = line.toString(StandardCharsets.ISO_8859_1).strip();
    if (!s.matches("HTTP/1\\.[01] [1-5][0-9][0-9]( .*)?")) {
      throw new IOException(
          "the receiver did not answer HTTP/1.x: '"
              + (s.length() > 60 ? s.substring(0, 60) + "…" : s)
              + "'");
    }
    return Integer.parseInt(s.substring(9, 12));
  }
}
