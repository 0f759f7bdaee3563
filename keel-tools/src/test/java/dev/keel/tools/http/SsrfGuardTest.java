package dev.keel.tools.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SsrfGuardTest {
  private final SsrfGuard guard =
      new SsrfGuard(Set.of("api.example.com"), List.of(), false, DnsResolver.system());

  @ParameterizedTest
  @ValueSource(
      strings = {
        "7f000001",
        "0a000001",
        "ac100001",
        "c0a80101",
        "a9fea9fe",
        "64400001",
        "00000000",
        "e0000001",
        "ffffffff",
        "00000000000000000000000000000001",
        "00000000000000000000ffff7f000001",
        "00000000000000000000ffffa9fea9fe",
        "0000000000000000000000007f000001",
        "0064ff9b00000000000000007f000001",
        "20027f00000100000000000000000000",
        "fd000000000000000000000000000001",
        "fe800000000000000000000000000001",
        "ff020000000000000000000000000001",
        "fd00ec20000000000000000000000254",
        "20010db8000000000000000000000001"
      })
  void blocksInsideAddressesInEveryForm(String hex) throws Exception {
    byte[] bytes = HexFormat.of().parseHex(hex);
    InetAddress a =
        bytes.length == 16
            ? Inet6Address.getByAddress(null, bytes, null)
            : InetAddress.getByAddress(bytes);
    assertThat(guard.blockedBecause(a)).as(hex).isNotNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"5db8d822", "26064700000000000000000000001111"})
  void letsPublicAddressesThrough(String hex) throws Exception {
    byte[] bytes = HexFormat.of().parseHex(hex);
    InetAddress a =
        bytes.length == 16
            ? Inet6Address.getByAddress(null, bytes, null)
            : InetAddress.getByAddress(bytes);
    assertThat(guard.blockedBecause(a)).as(hex).isNull();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "http://api.example.com/", "https://user@api.example.com/", "https://2130706433/",
        "https://0x7f.1/", "https://other.example.com/", "https://api.example.com.evil.net/",
        "javascript:alert(1)"
      })
  void refusesBadUrlsBeforeAnyLookup(String url) {
    assertThat(guard.check(URI.create(url))).isInstanceOf(SsrfGuard.Blocked.class);
  }
}
