package dev.keel.tools.http;

import java.net.IDN;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Decides whether an outbound URL may be fetched, and pins the address it may be fetched from.
 *
 * <p>Implementation notes: a URL passes only if all of these hold.
 *
 * <ol>
 *   <li>The scheme is {@code https} ({@code http} only when the tool allows it), with no user info.
 *   <li>The host is not an ambiguous IP literal: decimal ({@code 2130706433}), octal ({@code
 *       0177.0.0.1}), hex ({@code 0x7f.1}) and short ({@code 127.1}) forms are refused outright,
 *       because resolvers disagree about them.
 *   <li>The host is on the tool's allowlist (exact, or {@code *.example.com} for subdomains).
 *   <li>The host is resolved once, and every address it resolves to is outside the blocked ranges
 *       (loopback, private, carrier-grade NAT, link-local including the cloud metadata address
 *       169.254.169.254, unique-local and site-local IPv6, multicast, reserved and documentation
 *       ranges), with IPv4-mapped, IPv4-compatible, NAT64 and 6to4 IPv6 addresses unwrapped to
 *       their IPv4 address first; unless the range is explicitly allowed.
 * </ol>
 *
 * The caller connects to the pinned address only (so a second, rebinding DNS answer is never asked
 * for) and checks every redirect target again from step 1.
 */
public final class SsrfGuard {
  private static final Pattern NUMERICISH = Pattern.compile("[0-9a-fx.]+");
  private static final Pattern DOTTED_QUAD =
      Pattern.compile(
          "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

  private static final List<Cidr> BLOCKED_V4 =
      List.of(
              "0.0.0.0/8",
              "10.0.0.0/8",
              "100.64.0.0/10",
              "127.0.0.0/8",
              "169.254.0.0/16",
              "172.16.0.0/12",
              "192.0.0.0/24",
              "192.0.2.0/24",
              "192.88.99.0/24",
              "192.168.0.0/16",
              "198.18.0.0/15",
              "198.51.100.0/24",
              "203.0.113.0/24",
              "224.0.0.0/4",
              "240.0.0.0/4")
          .stream()
          .map(Cidr::parse)
          .toList();
  private static final List<Cidr> BLOCKED_V6 =
      List.of(
              "::/96",
              "::1/128",
              "100::/64",
              "2001::/32",
              "2001:db8::/32",
              "64:ff9b:1::/48",
              "fc00::/7",
              "fe80::/10",
              "fec0::/10",
              "ff00::/8")
          .stream()
          .map(Cidr::parse)
          .toList();

  /** The outcome of a check. */
  public sealed interface Decision {}

  /**
   * The URL may be fetched, from {@code address} only.
   *
   * @param uri the checked URL
   * @param host the host name as checked (lower case, no trailing dot)
   * @param port the port
   * @param tls whether to speak TLS (and verify the certificate for {@code host})
   * @param address the pinned address
   */
  public record Pinned(URI uri, String host, int port, boolean tls, InetAddress address)
      implements Decision {}

  /** The URL must not be fetched, for {@code reason}. */
  public record Blocked(String reason) implements Decision {}

  private final Set<String> allowedHosts;
  private final List<Cidr> allowedRanges;
  private final boolean allowPlainHttp;
  private final DnsResolver resolver;

  /**
   * Creates a guard.
   *
   * @param allowedHosts host names (or {@code *.suffix}) that may be fetched; nothing else may
   * @param allowedRanges ranges exempt from the block list (such as an internal API's subnet)
   * @param allowPlainHttp whether {@code http} is allowed besides {@code https}
   * @param resolver the DNS resolver, asked once per URL
   */
  public SsrfGuard(
      Set<String> allowedHosts,
      List<Cidr> allowedRanges,
      boolean allowPlainHttp,
      DnsResolver resolver) {
    this.allowedHosts =
        Set.copyOf(
            Objects.requireNonNull(allowedHosts, "allowedHosts").stream()
                .map(h -> h.toLowerCase(Locale.ROOT))
                .toList());
    if (this.allowedHosts.isEmpty()) {
      throw new IllegalArgumentException("allowedHosts must name at least one host");
    }
    this.allowedRanges = List.copyOf(allowedRanges);
    this.allowPlainHttp = allowPlainHttp;
    this.resolver = Objects.requireNonNull(resolver, "resolver");
  }

  /** Checks {@code uri}; never throws for a bad or hostile URL, answers {@link Blocked}. */
  public Decision check(URI uri) {
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    boolean tls = scheme.equals("https");
    if (!tls && !(scheme.equals("http") && allowPlainHttp)) {
      return new Blocked("scheme '" + scheme + "' is not allowed; use https");
    }
    if (uri.getRawUserInfo() != null) {
      return new Blocked("URLs with user info are not allowed");
    }
    String raw = uri.getHost();
    if (raw == null || raw.isEmpty()) {
      return new Blocked("the URL has no host: " + uri);
    }
    String host = raw.toLowerCase(Locale.ROOT);
    while (host.endsWith(".")) {
      host = host.substring(0, host.length() - 1);
    }
    boolean v6Literal = host.startsWith("[");
    if (!v6Literal && NUMERICISH.matcher(host).matches() && !DOTTED_QUAD.matcher(host).matches()) {
      return new Blocked("ambiguous IP literal '" + raw + "' is not allowed");
    }
    String ascii;
    try {
      ascii =
          v6Literal ? host : IDN.toASCII(host, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
    } catch (IllegalArgumentException e) {
      return new Blocked("host '" + raw + "' is not a valid host name");
    }
    if (!hostAllowed(ascii)) {
      return new Blocked("host '" + ascii + "' is not on this tool's allowlist");
    }
    List<InetAddress> addresses;
    try {
      addresses =
          v6Literal
              ? List.of(InetAddress.getByName(ascii.substring(1, ascii.length() - 1)))
              : DOTTED_QUAD.matcher(ascii).matches()
                  ? List.of(InetAddress.getByName(ascii))
                  : resolver.resolve(ascii);
    } catch (UnknownHostException e) {
      return new Blocked("host '" + ascii + "' does not resolve");
    }
    if (addresses.isEmpty()) {
      return new Blocked("host '" + ascii + "' does not resolve");
    }
    for (InetAddress a : addresses) {
      String why = blockedBecause(a);
      if (why != null) {
        return new Blocked(
            "host '" + ascii + "' resolves to " + a.getHostAddress() + " (" + why + ")");
      }
    }
    int port = uri.getPort() >= 0 ? uri.getPort() : tls ? 443 : 80;
    return new Pinned(uri, ascii, port, tls, addresses.get(0));
  }

  private boolean hostAllowed(String host) {
    if (allowedHosts.contains(host)) {
      return true;
    }
    for (String h : allowedHosts) {
      if (h.startsWith("*.") && host.endsWith(h.substring(1)) && host.length() > h.length() - 1) {
        return true;
      }
    }
    return false;
  }

  /** Why {@code address} is blocked, or null if it may be contacted. */
  @Nullable String blockedBecause(InetAddress address) {
    byte[] bytes = address.getAddress();
    for (Cidr allowed : allowedRanges) {
      if (allowed.contains(bytes)) {
        return null;
      }
    }
    byte[] v4 = embeddedV4(bytes);
    if (v4 != null) {
      for (Cidr allowed : allowedRanges) {
        if (allowed.contains(v4)) {
          return null;
        }
      }
      for (Cidr c : BLOCKED_V4) {
        if (c.contains(v4)) {
          return "IPv4 "
              + c
              + (bytes.length == 16 ? " inside an IPv6 address" : "")
              + " is blocked";
        }
      }
      return v4[0] == (byte) 255 ? "broadcast is blocked" : null;
    }
    for (Cidr c : BLOCKED_V6) {
      if (c.contains(bytes)) {
        return "IPv6 " + c + " is blocked";
      }
    }
    if (address.isAnyLocalAddress()
        || address.isLoopbackAddress()
        || address.isLinkLocalAddress()
        || address.isSiteLocalAddress()
        || address.isMulticastAddress()) {
      return "a local or multicast address is blocked";
    }
    return null;
  }

  /** The IPv4 address inside {@code bytes}, for IPv4 and the IPv6 forms that embed one. */
  private static byte @Nullable [] embeddedV4(byte[] bytes) {
    if (bytes.length == 4) {
      return bytes;
    }
    boolean mapped = true;
    for (int i = 0; i < 10; i++) {
      mapped &= bytes[i] == 0;
    }
    if (mapped && bytes[10] == (byte) 0xff && bytes[11] == (byte) 0xff) {
      return Arrays.copyOfRange(bytes, 12, 16);
    }
    boolean nat64 =
        bytes[0] == 0 && bytes[1] == 0x64 && bytes[2] == (byte) 0xff && bytes[3] == (byte) 0x9b;
    for (int i = 4; i < 12; i++) {
      nat64 &= bytes[i] == 0;
    }
    if (nat64) {
      return Arrays.copyOfRange(bytes, 12, 16);
    }
    if (bytes[0] == 0x20 && bytes[1] == 0x02) {
      return Arrays.copyOfRange(bytes, 2, 6);
    }
    return null;
  }
}
