package dev.keel.tools.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolResult;
import dev.keel.tools.Availability;
import dev.keel.tools.Redactor;
import dev.keel.tools.ToolContract;
import java.net.InetAddress;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SE-10: an SSRF corpus aimed at a loopback canary listener gets zero hits, directly and through
 * redirects from an allowed upstream; a positive control proves the canary counts hits.
 */
class SsrfCorpusTest {
  private LoopbackServer canary;
  private LoopbackServer upstream;
  private final AtomicInteger rebindLookups = new AtomicInteger();

  @BeforeEach
  void start() throws Exception {
    canary = new LoopbackServer("127.0.0.1");
    upstream = new LoopbackServer("127.0.0.2");
  }

  @AfterEach
  void stop() {
    canary.close();
    upstream.close();
  }

  private InetAddress ip(String s) {
    try {
      return InetAddress.getByName(s);
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  private final DnsResolver fakeDns =
      host ->
          switch (host) {
            case "localhost", "inside.test" -> List.of(ip("127.0.0.1"));
            case "metadata.test" -> List.of(ip("169.254.169.254"));
            case "private.test" -> List.of(ip("10.1.2.3"));
            case "v6inside.test" -> List.of(ip("::1"));
            case "mixed.test" -> List.of(ip("127.0.0.2"), ip("127.0.0.1"));
            case "upstream.test", "upstream2.test" -> List.of(ip("127.0.0.2"));
            case "rebind.test" ->
                rebindLookups.incrementAndGet() == 1
                    ? List.of(ip("127.0.0.2"))
                    : List.of(ip("127.0.0.1"));
            default -> throw new UnknownHostException(host);
          };

  private static final Set<String> EVERY_HOST =
      Set.of(
          "127.0.0.1",
          "localhost",
          "[::1]",
          "2130706433",
          "0177.0.0.1",
          "0x7f.0.0.1",
          "0x7f000001",
          "127.1",
          "017700000001",
          "[::ffff:127.0.0.1]",
          "[::ffff:7f00:1]",
          "[0:0:0:0:0:ffff:127.0.0.1]",
          "0.0.0.0",
          "0",
          "[::]",
          "169.254.169.254",
          "10.0.0.1",
          "172.16.0.1",
          "192.168.1.1",
          "100.64.0.1",
          "[fd00::1]",
          "[fe80::1]",
          "[::7f00:1]",
          "[64:ff9b::7f00:1]",
          "[2002:7f00:1::]",
          "[fd00:ec2::254]",
          "inside.test",
          "metadata.test",
          "private.test",
          "v6inside.test",
          "mixed.test",
          "rebind.test",
          "upstream.test",
          "upstream2.test",
          "127.0.0.1.nip.io",
          "evil.example");

  private HttpTool fetchTool(Set<String> hosts, List<String> ranges) {
    ToolContract c =
        ToolContract.builder("web.fetch")
            .riskLevel(2)
            .availability(Availability.EVERYONE)
            .inputSchema(
                (JsonObject)
                    JsonParser.parse(
                        "{\"type\":\"object\",\"properties\":{\"url\":{\"type\":\"string\"}}}"))
            .build();
    return new HttpTool(
        c,
        new HttpToolConfig(
            "GET", "{url}", Map.of(), List.of(), "", hosts, ranges, true, 1 << 16, 3),
        fakeDns,
        name -> Optional.empty(),
        new Redactor(List.of()));
  }

  private List<String> directCorpus() {
    int p = canary.port();
    List<String> urls = new ArrayList<>();
    for (String host :
        List.of(
            "127.0.0.1",
            "localhost",
            "[::1]",
            "2130706433",
            "0177.0.0.1",
            "0x7f.0.0.1",
            "0x7f000001",
            "127.1",
            "017700000001",
            "[::ffff:127.0.0.1]",
            "[::ffff:7f00:1]",
            "[0:0:0:0:0:ffff:127.0.0.1]",
            "0.0.0.0",
            "0",
            "[::]",
            "[::7f00:1]",
            "[64:ff9b::7f00:1]",
            "[2002:7f00:1::]",
            "inside.test",
            "v6inside.test",
            "mixed.test",
            "127.0.0.1.nip.io")) {
      urls.add("http://" + host + ":" + p + "/");
    }
    for (String host :
        List.of(
            "169.254.169.254",
            "metadata.test",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "private.test",
            "[fd00::1]",
            "[fe80::1]",
            "[fd00:ec2::254]")) {
      urls.add("http://" + host + "/latest/meta-data/");
    }
    urls.add("http://user:pw@upstream.test:" + upstream.port() + "/");
    urls.add("ftp://127.0.0.1:" + p + "/");
    urls.add("file:///etc/passwd");
    urls.add("gopher://127.0.0.1:" + p + "/_GET");
    return urls;
  }

  private static ToolInvocation fetch(String url, int i) {
    return new ToolInvocation("acme", "run_1", "c" + i, "k" + i, JsonValue.object("url", url), 1);
  }

  @Test
  void corpusNeverReachesTheCanary() throws Exception {
    HttpTool tool = fetchTool(EVERY_HOST, List.of("127.0.0.2/32"));
    List<String> corpus = new ArrayList<>(directCorpus());
    for (String inner : directCorpus()) {
      corpus.add(
          "http://upstream.test:"
              + upstream.port()
              + "/redirect?to="
              + URLEncoder.encode(inner, StandardCharsets.UTF_8));
    }
    corpus.add(
        "http://upstream.test:"
            + upstream.port()
            + "/redirect?to="
            + URLEncoder.encode(
                "http://upstream.test:"
                    + upstream.port()
                    + "/redirect?to="
                    + URLEncoder.encode(
                        "http://127.0.0.1:" + canary.port() + "/", StandardCharsets.UTF_8),
                StandardCharsets.UTF_8));
    corpus.add("http://rebind.test:" + canary.port() + "/");
    int blocked = 0;
    for (int i = 0; i < corpus.size(); i++) {
      String url = corpus.get(i);
      ToolResult r = tool.invoke(fetch(url, i));
      assertThat(r)
          .as(corpus.get(i))
          .isInstanceOfSatisfying(
              ToolResult.Failure.class,
              f ->
                  assertThat(f.type())
                      .isIn(
                          url.contains("rebind.test")
                              ? List.of("network_error")
                              : List.of("egress_blocked", "invalid_arguments")));
      blocked++;
    }
    assertThat(canary.hits).as("hits on the loopback canary").hasValue(0);
    assertThat(rebindLookups).as("DNS asked once, then the address is pinned").hasValue(1);
    assertThat(blocked).isGreaterThanOrEqualTo(70);
  }

  @Test
  void positiveControlShowsTheCanaryCountsHits() throws Exception {
    HttpTool open = fetchTool(Set.of("127.0.0.1"), List.of("127.0.0.0/8"));
    ToolResult r = open.invoke(fetch("http://127.0.0.1:" + canary.port() + "/", 1));
    assertThat(r).isInstanceOf(ToolResult.Success.class);
    assertThat(canary.hits).hasValue(1);
  }

  @Test
  void hostsOffTheAllowlistAndPlainHttpAreRefused() throws Exception {
    HttpTool strict =
        new HttpTool(
            ToolContract.builder("web.get")
                .availability(Availability.EVERYONE)
                .inputSchema((JsonObject) JsonParser.parse("{\"type\":\"object\"}"))
                .build(),
            HttpToolConfig.get("https://api.example.com/x", "api.example.com"),
            fakeDns,
            n -> Optional.empty(),
            new Redactor(List.of()));
    assertThat(strict.invoke(fetch("ignored", 1))).isInstanceOf(ToolResult.Failure.class);
    HttpTool tool = fetchTool(Set.of("upstream.test"), List.of("127.0.0.2/32"));
    assertThat(tool.invoke(fetch("http://evil.example/", 2)))
        .isInstanceOfSatisfying(
            ToolResult.Failure.class,
            f -> assertThat(f.message()).contains("not on this tool's allowlist"));
  }
}
