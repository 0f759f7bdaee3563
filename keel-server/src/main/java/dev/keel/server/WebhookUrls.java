package dev.keel.server;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Optional;

/**
 * Checks a webhook URL against server-side request forgery: https only, no user info, and every
 * address the host resolves to must be public (not loopback, private, link-local, carrier-grade
 * NAT, unique-local, multicast or unspecified). {@code webhooks.allow-private} lifts the address
 * and scheme rules, for tests on loopback and closed networks.
 *
 * <p>Implementation notes. The check runs at create and again before every attempt, so a name that
 * later resolves to a private address is refused then. Before an attempt, {@link #check} returns
 * the address it checked and the dispatcher connects to exactly that address ({@link PinnedPost}):
 * there is no second lookup an attacker's DNS could answer differently (rebinding).
 */
final class WebhookUrls {
  private WebhookUrls() {}

  /** Looks up a host's addresses. */
  @FunctionalInterface
  interface Resolver {
    /** Every address of {@code host}. */
    InetAddress[] resolve(String host) throws UnknownHostException;

    /** The system resolver. */
    Resolver SYSTEM = InetAddress::getAllByName;
  }

  /**
   * A checked URL and the one address to connect to for it.
   *
   * @param uri the URL
   * @param address the checked address the request must go to
   */
  record Target(URI uri, InetAddress address) {}

  /** Empty when {@code url} may be called, otherwise why not. */
  static Optional<String> problem(String url, boolean allowPrivate) {
    // With allow-private any address may be called, so a create does not need the lookup (the
    // attempt resolves, and connects to what it resolved).
    Object r =
        check(
            url,
            allowPrivate,
            allowPrivate
                ? host -> new InetAddress[] {InetAddress.getLoopbackAddress()}
                : Resolver.SYSTEM);
    return r instanceof String p ? Optional.of(p) : Optional.empty();
  }

  /**
   * Checks {@code url}, resolving its host once with {@code resolver}: a {@link Target} to connect
   * to, or a {@code String} saying why not.
   */
  static Object check(String url, boolean allowPrivate, Resolver resolver) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException x) {
      return "is not a URL: " + x.getReason();
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !(allowPrivate && scheme.equals("http"))) {
      return "must be an https URL";
    }
    if (uri.getRawUserInfo() != null) {
      return "must not carry user info";
    }
    String host = uri.getHost();
    if (host == null || host.isEmpty()) {
      return "must name a host";
    }
    InetAddress[] all;
    try {
      all = resolver.resolve(host);
    } catch (UnknownHostException x) {
      return "names host " + host + ", which does not resolve";
    }
    if (all.length == 0) {
      return "names host " + host + ", which does not resolve";
    }
    if (!allowPrivate) {
      for (InetAddress a : all) {
        if (!isPublic(a)) {
          return "resolves to "
              + a.getHostAddress()
              + ", a private, loopback or reserved address; webhooks go to public hosts only";
        }
      }
    }
    return new Target(uri, all[0]);
  }

  static boolean isPublic(InetAddress a) {
    if (a.isLoopbackAddress()
        || a.isAnyLocalAddress()
        || a.isLinkLocalAddress()
        || a.isSiteLocalAddress()
        || a.isMulticastAddress()) {
      return false;
    }
    byte[] b = a.getAddress();
    if (a instanceof Inet4Address) {
      int b0 = b[0] & 0xff;
      int b1 = b[1] & 0xff;
      return b0 != 0 && !(b0 == 100 && b1 >= 64 && b1 < 128) && !(b0 == 198 && (b1 & 0xfe) == 18);
    }
    if (a instanceof Inet6Address) {
      int b0 = b[0] & 0xff;
      if ((b0 & 0xfe) == 0xfc) {
        return false; // fc00::/7 unique local
      }
      boolean mapped = true;
      for (int i = 0; i < 10; i++) {
        mapped &= b[i] == 0;
      }
      if (mapped && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
        try {
          return isPublic(InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]}));
        } catch (UnknownHostException x) {
          return false;
        }
      }
    }
    return true;
  }
}
