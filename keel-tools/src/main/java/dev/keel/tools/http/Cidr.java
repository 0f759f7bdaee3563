package dev.keel.tools.http;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/** An address range such as {@code 10.0.0.0/8} or {@code fc00::/7}. */
public final class Cidr {
  private final byte[] network;
  private final int prefix;

  /**
   * Creates a range.
   *
   * @param network the range's first address bytes (4 or 16)
   * @param prefix the prefix length in bits
   */
  public Cidr(byte[] network, int prefix) {
    Objects.requireNonNull(network, "network");
    if (network.length != 4 && network.length != 16) {
      throw new IllegalArgumentException("cidr network must be 4 or 16 bytes");
    }
    if (prefix < 0 || prefix > network.length * 8) {
      throw new IllegalArgumentException("cidr prefix " + prefix + " out of range");
    }
    this.network = network.clone();
    this.prefix = prefix;
  }

  /** The prefix length in bits. */
  public int prefix() {
    return prefix;
  }

  /**
   * Parses {@code a.b.c.d/n} or {@code v6::/n}, literals only (never a DNS name).
   *
   * @throws IllegalArgumentException naming the text if it is not a CIDR literal
   */
  public static Cidr parse(String text) {
    int slash = text.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("'" + text + "' is not a CIDR range like 10.0.0.0/8");
    }
    String addr = text.substring(0, slash);
    if (!addr.contains(":") && !addr.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
      throw new IllegalArgumentException("'" + text + "' is not a CIDR range like 10.0.0.0/8");
    }
    try {
      byte[] bytes = InetAddress.getByName(addr).getAddress();
      if (addr.contains(":") && bytes.length == 4) {
        throw new IllegalArgumentException(
            "'" + text + "': write IPv4-mapped ranges in IPv4 form (the guard unwraps them)");
      }
      return new Cidr(bytes, Integer.parseInt(text.substring(slash + 1)));
    } catch (UnknownHostException | NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is not a CIDR range like 10.0.0.0/8", e);
    }
  }

  /** Whether {@code address} (raw bytes) is in the range; families never match each other. */
  public boolean contains(byte[] address) {
    if (address.length != network.length) {
      return false;
    }
    int full = prefix / 8;
    for (int i = 0; i < full; i++) {
      if (address[i] != network[i]) {
        return false;
      }
    }
    int rest = prefix % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xff << (8 - rest)) & 0xff;
    return (address[full] & mask) == (network[full] & mask);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Cidr c && c.prefix == prefix && java.util.Arrays.equals(c.network, network);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(network) * 31 + prefix;
  }

  @Override
  public String toString() {
    try {
      return InetAddress.getByAddress(network).getHostAddress() + "/" + prefix;
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }
}
