package dev.keel.models.bedrock;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * AWS Signature Version 4 for one request, with the JDK only (SHA-256 and HMAC-SHA256).
 *
 * <p>Implementation notes: the canonical request is method, canonical URI, canonical query,
 * canonical headers, signed header names and the hex SHA-256 of the payload, joined by newlines.
 * The canonical URI encodes each path segment once more (every service but S3 signs the
 * already-encoded path, so a model id's {@code :} sent as {@code %3A} is signed as {@code %253A}).
 * Header names are lower-cased and sorted, values trimmed with inner runs of spaces collapsed. The
 * signing key is HMAC chained over date, region, service and {@code aws4_request}. The JDK sets
 * {@code Host} itself, so the signer signs the host it will send but returns only the headers the
 * caller must add.
 */
public final class SigV4Signer {
  private static final DateTimeFormatter AMZ_DATE =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  /** AWS credentials; {@link #toString()} never shows the secret or the token. */
  public record Credentials(
      String accessKeyId, String secretAccessKey, Optional<String> sessionToken) {
    /** Checks the key id and secret are present. */
    public Credentials {
      if (accessKeyId.isBlank() || secretAccessKey.isBlank()) {
        throw new IllegalArgumentException("AWS access key id and secret must not be blank");
      }
    }

    @Override
    public String toString() {
      return "Credentials[accessKeyId=" + accessKeyId + ", secret=***]";
    }
  }

  private final String region;
  private final String service;

  /** Creates a signer for {@code service} (such as {@code bedrock}) in {@code region}. */
  public SigV4Signer(String region, String service) {
    if (region.isBlank() || service.isBlank()) {
      throw new IllegalArgumentException("SigV4 region and service must not be blank");
    }
    this.region = region;
    this.service = service;
  }

  /**
   * Signs a request and returns the headers to add: {@code X-Amz-Date}, {@code
   * X-Amz-Security-Token} when there is a session token, and {@code Authorization}.
   *
   * @param headers the other headers that will be sent (all are signed), without {@code Host}
   */
  public Map<String, String> sign(
      String method,
      URI uri,
      Map<String, String> headers,
      byte[] payload,
      Instant time,
      Credentials credentials) {
    String amzDate = AMZ_DATE.format(time);
    String date = amzDate.substring(0, 8);
    TreeMap<String, String> canonical = new TreeMap<>();
    headers.forEach((k, v) -> canonical.put(k.toLowerCase(Locale.ROOT), normalize(v)));
    canonical.put("host", hostHeader(uri));
    canonical.put("x-amz-date", amzDate);
    credentials.sessionToken().ifPresent(t -> canonical.put("x-amz-security-token", t));
    String signedHeaders = String.join(";", canonical.keySet());
    StringBuilder headerBlock = new StringBuilder();
    canonical.forEach((k, v) -> headerBlock.append(k).append(':').append(v).append('\n'));
    String canonicalRequest =
        method
            + "\n"
            + canonicalUri(uri.getRawPath())
            + "\n"
            + canonicalQuery(uri.getRawQuery())
            + "\n"
            + headerBlock
            + "\n"
            + signedHeaders
            + "\n"
            + hex(sha256(payload));
    String scope = date + "/" + region + "/" + service + "/aws4_request";
    String stringToSign =
        "AWS4-HMAC-SHA256\n"
            + amzDate
            + "\n"
            + scope
            + "\n"
            + hex(sha256(canonicalRequest.getBytes(StandardCharsets.UTF_8)));
    byte[] key = signingKey(credentials.secretAccessKey(), date, region, service);
    String signature = hex(hmac(key, stringToSign));
    Map<String, String> out = new LinkedHashMap<>();
    out.put("X-Amz-Date", amzDate);
    credentials.sessionToken().ifPresent(t -> out.put("X-Amz-Security-Token", t));
    out.put(
        "Authorization",
        "AWS4-HMAC-SHA256 Credential="
            + credentials.accessKeyId()
            + "/"
            + scope
            + ", SignedHeaders="
            + signedHeaders
            + ", Signature="
            + signature);
    return out;
  }

  /** The SigV4 signing key for {@code date} (yyyyMMdd), region and service. */
  static byte[] signingKey(String secret, String date, String region, String service) {
    byte[] kDate = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), date);
    byte[] kRegion = hmac(kDate, region);
    byte[] kService = hmac(kRegion, service);
    return hmac(kService, "aws4_request");
  }

  private static String hostHeader(URI uri) {
    int port = uri.getPort();
    boolean defaultPort =
        port == -1
            || (port == 443 && "https".equals(uri.getScheme()))
            || (port == 80 && "http".equals(uri.getScheme()));
    return defaultPort ? uri.getHost() : uri.getHost() + ":" + port;
  }

  private static String normalize(String value) {
    return value.strip().replaceAll(" +", " ");
  }

  static String canonicalUri(String rawPath) {
    if (rawPath == null || rawPath.isEmpty()) {
      return "/";
    }
    List<String> segments = new ArrayList<>();
    for (String segment : rawPath.split("/", -1)) {
      segments.add(encode(segment));
    }
    return String.join("/", segments);
  }

  private static String canonicalQuery(String rawQuery) {
    if (rawQuery == null || rawQuery.isEmpty()) {
      return "";
    }
    List<String[]> pairs = new ArrayList<>();
    for (String pair : rawQuery.split("&", -1)) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      pairs.add(new String[] {encode(decode(name)), encode(decode(value))});
    }
    pairs.sort((a, b) -> a[0].equals(b[0]) ? a[1].compareTo(b[1]) : a[0].compareTo(b[0]));
    List<String> out = new ArrayList<>();
    for (String[] p : pairs) {
      out.add(p[0] + "=" + p[1]);
    }
    return String.join("&", out);
  }

  private static String decode(String s) {
    return java.net.URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  /** RFC 3986 percent-encoding of everything but unreserved characters. */
  static String encode(String s) {
    StringBuilder out = new StringBuilder();
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if ((c >= 'A' && c <= 'Z')
          || (c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '_'
          || c == '.'
          || c == '~') {
        out.append(c);
      } else {
        out.append('%').append(String.format(Locale.ROOT, "%02X", b & 0xff));
      }
    }
    return out.toString();
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  private static byte[] hmac(byte[] key, String data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
    }
  }

  private static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }
}
