package dev.keel.tools.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * A small HTTP/1.1 client that connects to a pinned address only. TLS is spoken with SNI and
 * certificate verification for the checked host name, while the TCP connection goes to the address
 * {@link SsrfGuard} approved; so DNS is never asked twice and a rebinding answer cannot redirect
 * the connection. One request per connection ({@code Connection: close}); redirects are not
 * followed here.
 *
 * <p>Implementation notes: socket reads on a virtual thread are interruptible, so the governed
 * layer's timeout (which interrupts the call's virtual thread) closes the connection; the socket
 * timeout is a second bound. Header names and values with CR, LF or NUL are refused.
 */
final class PinnedHttpClient {

  /** A response: status, headers (lower-case names) and a body of at most the cap. */
  static final class Response {
    private final int status;
    private final Map<String, List<String>> headers;
    private final byte[] body;
    private final boolean truncated;

    Response(int status, Map<String, List<String>> headers, byte[] body, boolean truncated) {
      this.status = status;
      this.headers = headers;
      this.body = body;
      this.truncated = truncated;
    }

    int status() {
      return status;
    }

    byte[] body() {
      return body.clone();
    }

    boolean truncated() {
      return truncated;
    }

    Optional<String> header(String name) {
      List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
      return v == null || v.isEmpty() ? Optional.empty() : Optional.of(v.get(0));
    }
  }

  private final SSLContext tls;

  PinnedHttpClient(SSLContext tls) {
    this.tls = Objects.requireNonNull(tls, "tls");
  }

  Response send(
      SsrfGuard.Pinned target,
      String method,
      List<Map.Entry<String, String>> headers,
      byte[] body,
      Duration timeout,
      int maxBody)
      throws IOException {
    int millis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    Socket socket = new Socket();
    try {
      socket.connect(new InetSocketAddress(target.address(), target.port()), millis);
      socket.setSoTimeout(millis);
      Socket s = socket;
      if (target.tls()) {
        SSLSocket ssl =
            (SSLSocket)
                tls.getSocketFactory().createSocket(socket, target.host(), target.port(), true);
        SSLParameters p = ssl.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        p.setServerNames(List.of(new SNIHostName(target.host())));
        ssl.setSSLParameters(p);
        ssl.startHandshake();
        s = ssl;
      }
      write(s.getOutputStream(), target, method, headers, body);
      return read(s.getInputStream(), maxBody, method.equals("HEAD"));
    } finally {
      socket.close();
    }
  }

  private static void write(
      OutputStream out,
      SsrfGuard.Pinned target,
      String method,
      List<Map.Entry<String, String>> headers,
      byte[] body)
      throws IOException {
    String path = target.uri().getRawPath();
    if (path == null || path.isEmpty()) {
      path = "/";
    }
    if (target.uri().getRawQuery() != null) {
      path += "?" + target.uri().getRawQuery();
    }
    boolean defaultPort = target.port() == (target.tls() ? 443 : 80);
    String hostHeader =
        (target.host().contains(":") && !target.host().startsWith("[")
                ? "[" + target.host() + "]"
                : target.host())
            + (defaultPort ? "" : ":" + target.port());
    StringBuilder sb = new StringBuilder();
    sb.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
    sb.append("Host: ").append(hostHeader).append("\r\n");
    sb.append("Connection: close\r\n");
    sb.append("Accept-Encoding: identity\r\n");
    if (body.length > 0 || (!method.equals("GET") && !method.equals("HEAD"))) {
      sb.append("Content-Length: ").append(body.length).append("\r\n");
    }
    for (Map.Entry<String, String> h : headers) {
      checkHeader(h.getKey(), h.getValue());
      sb.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
    }
    sb.append("\r\n");
    out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
    out.write(body);
    out.flush();
  }

  static void checkHeader(String name, String value) {
    if (!name.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+")) {
      throw new IllegalArgumentException("header name '" + name + "' is not a valid token");
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '\r' || c == '\n' || c == 0) {
        throw new IllegalArgumentException("header " + name + " contains CR, LF or NUL");
      }
    }
  }

  private static Response read(InputStream in, int maxBody, boolean head) throws IOException {
    String statusLine = line(in);
    String[] parts = statusLine.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
      throw new IOException("not an HTTP/1.x response: " + truncate(statusLine));
    }
    int status;
    try {
      status = Integer.parseInt(parts[1]);
    } catch (NumberFormatException e) {
      throw new IOException("bad status line: " + truncate(statusLine), e);
    }
    Map<String, List<String>> headers = new java.util.LinkedHashMap<>();
    int count = 0;
    for (String l = line(in); !l.isEmpty(); l = line(in)) {
      if (++count > 200) {
        throw new IOException("more than 200 response headers");
      }
      int colon = l.indexOf(':');
      if (colon > 0) {
        headers
            .computeIfAbsent(
                l.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
            .add(l.substring(colon + 1).trim());
      }
    }
    if (head || status == 204 || status == 304 || status / 100 == 1) {
      return new Response(status, headers, new byte[0], false);
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    boolean truncated;
    List<String> te = headers.getOrDefault("transfer-encoding", List.of());
    if (te.stream().anyMatch(v -> v.toLowerCase(Locale.ROOT).contains("chunked"))) {
      truncated = readChunked(in, body, maxBody);
    } else if (headers.containsKey("content-length")) {
      long length;
      try {
        length = Long.parseLong(headers.get("content-length").get(0));
      } catch (NumberFormatException e) {
        throw new IOException("bad Content-Length", e);
      }
      truncated = copy(in, body, Math.min(length, (long) maxBody + 1), maxBody);
    } else {
      truncated = copy(in, body, (long) maxBody + 1, maxBody);
    }
    return new Response(status, headers, body.toByteArray(), truncated);
  }

  private static boolean readChunked(InputStream in, ByteArrayOutputStream body, int maxBody)
      throws IOException {
    while (true) {
      String sizeLine = line(in);
      int semi = sizeLine.indexOf(';');
      long size;
      try {
        size = Long.parseLong((semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).trim(), 16);
      } catch (NumberFormatException e) {
        throw new IOException("bad chunk size", e);
      }
      if (size == 0) {
        return false;
      }
      if (copy(in, body, Math.min(size, (long) maxBody + 1 - body.size()), maxBody)) {
        return true;
      }
      if (body.size() < maxBody) {
        line(in);
      }
    }
  }

  /** Copies up to {@code n} bytes; returns true if the body went over {@code maxBody}. */
  private static boolean copy(InputStream in, ByteArrayOutputStream out, long n, int maxBody)
      throws IOException {
    byte[] buf = new byte[8192];
    long left = n;
    while (left > 0) {
      int r = in.read(buf, 0, (int) Math.min(buf.length, left));
      if (r < 0) {
        break;
      }
      out.write(buf, 0, r);
      left -= r;
      if (out.size() > maxBody) {
        return true;
      }
    }
    return false;
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') {
      if (b.size() > 16 * 1024) {
        throw new IOException("response line longer than 16 KiB");
      }
      b.write(c);
    }
    String s = b.toString(StandardCharsets.ISO_8859_1);
    return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
  }

  private static String truncate(String s) {
    return s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }
}
