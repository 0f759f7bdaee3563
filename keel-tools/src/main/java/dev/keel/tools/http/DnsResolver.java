package dev.keel.tools.http;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/** Resolves a host name to addresses; injected so tests can answer with inside addresses. */
@FunctionalInterface
public interface DnsResolver {

  /** Every address {@code host} resolves to. */
  List<InetAddress> resolve(String host) throws UnknownHostException;

  /** The system resolver. */
  static DnsResolver system() {
    return host -> List.of(InetAddress.getAllByName(host));
  }
}
