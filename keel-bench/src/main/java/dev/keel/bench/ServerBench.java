package dev.keel.bench;

import dev.keel.json.JsonLimits;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server benchmark (a program, not a test): starts {@code keel serve} as a child JVM the way a
 * user would (packaged jar and classpath file, {@code -Xmx1g}), and prints, beside the issue's
 * targets: time from process start to {@code /readyz} answering 200 (fresh data folder, then a
 * restart), idle RSS, {@code POST /v1/runs} per second (alone, then with GETs alongside) and {@code
 * GET /v1/runs/{id}} p99 under that load from a loopback load generator ({@code wrk} when
 * installed, else a JDK HttpClient generator), and the server's heap with 10,000 open SSE streams.
 *
 * <p>Method notes. The server runs with {@code engine.workers: 0} so the figures are the API's and
 * the store's, not the demo agent's; created runs stay queued, which also keeps every SSE stream
 * open. Rate limits are raised out of the way. The load generator runs on the same 2-core machine
 * as the server, so the create rate is a lower bound of what the server alone could do.
 *
 * <p>Usage: {@code keel-bench/server-bench.sh [--store sqlite|postgres] [--seconds N] [--clients N]
 * [--streams N] [--warmup S] [--idempotency-key true]}: {@code --warmup} is the seconds of POST
 * load before the measured ones (default 3); {@code --idempotency-key true} sends a new {@code
 * Idempotency-Key} with every POST. {@code KEEL_BENCH_SERVER_JAVA_OPTS} adds JVM flags to the
 * server (a profiler's, say).
 */
public final class ServerBench {
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();
  private final Map<String, String> opts = new HashMap<>();
  private final List<String[]> rows = new ArrayList<>();

  private ServerBench(String[] args) {
    for (int i = 0; i + 1 < args.length; i += 2) {
      opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
  }

  /** Runs the benchmark. */
  public static void main(String[] args) throws Exception {
    new ServerBench(args).run();
  }

  private String opt(String k, String d) {
    return opts.getOrDefault(k, d);
  }

  private void run() throws Exception {
    Path home = Files.createTempDirectory("keel-server-bench");
    int port = freePort();
    String base = "http://127.0.0.1:" + port;
    Map<String, String> env = new HashMap<>();
    env.put("KEEL_HOME", home.toString());
    env.put("KEEL_ENGINE_WORKERS", "0");
    env.put("KEEL_LIMITS_KEY_RATE", "10000000");
    env.put("KEEL_LIMITS_KEY_BURST", "1000000");
    env.put("KEEL_LIMITS_TENANT_RATE", "10000000");
    env.put("KEEL_LIMITS_TENANT_BURST", "1000000");
    env.put("KEEL_LIMITS_STREAMS_PER_KEY", "20000");
    env.put("KEEL_LIMITS_STREAMS_TOTAL", "20000");
    String store = opt("store", "sqlite");
    if (store.equals("postgres")) {
      String pg =
          System.getenv().getOrDefault("PG_URL", "jdbc:postgresql://127.0.0.1:5432/test")
              + "?user=postgres&currentSchema=keel_server_bench_"
              + Long.toHexString(System.nanoTime());
      try (var c = java.sql.DriverManager.getConnection(pg.replaceAll("&currentSchema=.*", ""));
          var s = c.createStatement()) {
        s.execute("CREATE SCHEMA " + pg.replaceAll(".*currentSchema=", ""));
      }
      env.put("KEEL_STORE_URL", pg);
    }
    System.out.printf(
        "Keel server benchmark: store %s, %d cores, load average before start %s%n",
        store, cores(), loadAverage());

    long firstReady;
    Files.deleteIfExists(CDS_ARCHIVE);
    long first = System.nanoTime();
    Process p = start(env, port);
    firstReady = awaitReady(base, p, first);
    p.destroy();
    p.waitFor(60, TimeUnit.SECONDS);
    long t0 = System.nanoTime();
    p = start(env, port);
    long ready = awaitReady(base, p, t0);
    try {
      row(
          "ready after start, fresh data folder (first start after a build)",
          ms(firstReady),
          "-",
          "");
      row(
          "ready after start, existing store",
          ms(ready),
          "<= 1500 ms",
          pass(ready <= 1_500_000_000L));
      Thread.sleep(3000);
      long rss = rssKb(p.pid());
      row("idle RSS", rss / 1024 + " MB", "<= 200 MB", pass(rss <= 200 * 1024));
      String token = Files.readString(home.resolve("admin.key")).strip();
      String runId = createOne(base, token);
      load(
          base,
          token,
          runId,
          Integer.parseInt(opt("seconds", "10")),
          Integer.parseInt(opt("clients", "64")));
      streams(base, token, runId, p.pid(), Integer.parseInt(opt("streams", "10000")));
    } finally {
      p.destroy();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
    System.out.println();
    System.out.println("load average after the run: " + loadAverage());
    System.out.printf("| %-48s | %-14s | %-12s | %-4s |%n", "measure", "measured", "target", "");
    System.out.printf(
        "|%s|%s|%s|%s|%n", "-".repeat(50), "-".repeat(16), "-".repeat(14), "-".repeat(6));
    for (String[] r : rows) {
      System.out.printf("| %-48s | %-14s | %-12s | %-4s |%n", r[0], r[1], r[2], r[3]);
    }
  }

  private void row(String what, String measured, String target, String ok) {
    rows.add(new String[] {what, measured, target, ok});
    System.out.printf("  %s: %s%n", what, measured);
  }

  private static String pass(boolean ok) {
    return ok ? "ok" : "MISS";
  }

  private static String ms(long nanos) {
    return String.format(Locale.ROOT, "%.0f ms", nanos / 1e6);
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException x) {
      return "?";
    }
  }

  private static int cores() {
    return Runtime.getRuntime().availableProcessors();
  }

  /** Made by the first start of a bench run (fresh data folder), used by the later ones. */
  private static final Path CDS_ARCHIVE = Path.of("keel-bench/target/keel-cds.jsa");

  private Process start(Map<String, String> env, int port) throws IOException {
    String jar = opt("app-jar", "keel-app/target/keel-app.jar");
    String cp = Files.readString(Path.of(opt("app-classpath", "keel-app/target/classpath.txt")));
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx1g");
    // the launcher's flags for serve: serial GC and a class-data archive made by the first start
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:+AutoCreateSharedArchive");
    cmd.add("-XX:SharedArchiveFile=" + CDS_ARCHIVE);
    cmd.add("-Xlog:disable");
    cmd.add("--enable-native-access=ALL-UNNAMED");
    // for a profiler, e.g. -XX:StartFlightRecording=filename=/tmp/serve.jfr,settings=profile
    String extra = System.getenv("KEEL_BENCH_SERVER_JAVA_OPTS");
    if (extra != null && !extra.isBlank()) {
      cmd.addAll(List.of(extra.trim().split("\\s+")));
    }
    cmd.add("-cp");
    cmd.add(jar + java.io.File.pathSeparator + cp.strip());
    cmd.add("dev.keel.app.Main");
    cmd.add("serve");
    cmd.add("--port");
    cmd.add(Integer.toString(port));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    pb.redirectErrorStream(true);
    pb.redirectOutput(
        ProcessBuilder.Redirect.appendTo(Path.of(env.get("KEEL_HOME"), "server.log").toFile()));
    return pb.start();
  }

  /**
   * Nanos from {@code startNanos} (taken just before the process was started, so the fork and exec
   * count) to /readyz 200. The process's own start time from /proc is not used: Linux gives the
   * boot time in whole seconds, so it can be off by up to a second.
   */
  private long awaitReady(String base, Process p, long startNanos) throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/readyz")).build();
    while (true) {
      if (!p.isAlive()) {
        throw new IllegalStateException("the server exited with " + p.exitValue());
      }
      try {
        if (http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return System.nanoTime() - startNanos;
        }
      } catch (IOException x) {
        // not listening yet
      }
      Thread.sleep(10); // a tight poll would take CPU from the starting server
    }
  }

  private static long rssKb(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  private static final String BODY =
      "{\"agent\":\"support-triage\",\"input\":{\"goal\":\"Refund order B-1\"}}";

  private String createOne(String base, String token) throws Exception {
    HttpResponse<String> r = http.send(post(base, token), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 201) {
      throw new IllegalStateException("create failed: " + r.statusCode() + " " + r.body());
    }
    return ((JsonObject) JsonParser.parse(r.body(), JsonLimits.TRUSTED)).string("id").orElseThrow();
  }

  private static HttpRequest post(String base, String token) {
    return HttpRequest.newBuilder(URI.create(base + "/v1/runs"))
        .header("Authorization", "Bearer " + token)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(BODY))
        .build();
  }

  private void load(String base, String token, String runId, int seconds, int clients)
      throws Exception {
    if (wrkInstalled()) {
      wrkLoad(base, token, runId, seconds, clients);
      return;
    }
    System.out.println("  wrk is not installed: using the JDK HttpClient load generator");
    jdkLoad(base, token, runId, Integer.parseInt(opt("warmup", "3")), clients, false);
    jdkLoad(base, token, runId, seconds, clients, true);
  }

  private static boolean wrkInstalled() {
    try {
      return new ProcessBuilder("wrk", "--version").start().waitFor() >= 0;
    } catch (IOException | InterruptedException x) {
      return false;
    }
  }

  private void wrkLoad(String base, String token, String runId, int seconds, int clients)
      throws Exception {
    Path script = Files.createTempFile("keel-post", ".lua");
    Files.writeString(
        script,
        "wrk.method = \"POST\"\nwrk.body = '"
            + BODY
            + "'\n"
            + "wrk.headers[\"Content-Type\"] = \"application/json\"\n"
            + (withKeys() ? KEYED_REQUESTS : ""));
    String auth = "Authorization: Bearer " + token;
    // warm-up
    new ProcessBuilder(
            "wrk",
            "-t2",
            "-c" + clients,
            "-d" + opt("warmup", "3") + "s",
            "-s",
            script.toString(),
            "-H",
            auth,
            base + "/v1/runs")
        .redirectErrorStream(true)
        .start()
        .waitFor();
    // POSTs alone first: the create rate the target is about.
    String alone = wrkPosts(script, auth, base, seconds, clients).start().waitForOutput();
    double aloneRps = number(alone, "Requests/sec:\\s+([0-9.]+)");
    String aloneNon2xx = match(alone, "Non-2xx or 3xx responses:\\s+(\\d+)", "0");
    // Then POSTs with GETs alongside: the GET latency under that load.
    Running posts = wrkPosts(script, auth, base, seconds, clients).start();
    Running gets =
        new Running(
                new ProcessBuilder(
                    "wrk",
                    "-t1",
                    "-c8",
                    "-d" + seconds + "s",
                    "--latency",
                    "-H",
                    auth,
                    base + "/v1/runs/" + runId))
            .start();
    String postOut = posts.waitForOutput();
    String getOut = gets.waitForOutput();
    double rps = number(postOut, "Requests/sec:\\s+([0-9.]+)");
    double getRps = number(getOut, "Requests/sec:\\s+([0-9.]+)");
    String non2xx = match(postOut, "Non-2xx or 3xx responses:\\s+(\\d+)", "0");
    String getP99 = match(getOut, "99%\\s+([0-9.]+[a-z]+)", "?");
    String getErr = match(getOut, "Non-2xx or 3xx responses:\\s+(\\d+)", "0");
    String what = clients + " conns, " + seconds + " s" + (withKeys() ? ", Idempotency-Key" : "");
    row(
        "POST /v1/runs per second (wrk, " + what + ")",
        String.format(Locale.ROOT, "%.0f /s", aloneRps),
        ">= 5000 /s",
        pass(aloneRps >= 5000));
    row("  non-2xx answers to POST", aloneNon2xx, "0", pass(aloneNon2xx.equals("0")));
    row(
        "POST /v1/runs per second with GETs alongside (wrk, " + what + ")",
        String.format(Locale.ROOT, "%.0f /s (+ %.0f GET/s)", rps, getRps),
        "-",
        "");
    row("  non-2xx answers to POST", non2xx, "0", pass(non2xx.equals("0")));
    row("GET /v1/runs/{id} p99 during the POST load (wrk, 8 conns)", getP99, "-", "");
    row("  non-2xx answers to GET", getErr, "0", pass(getErr.equals("0")));
    System.out.println(
        "--- wrk POST alone ---\n"
            + alone
            + "--- wrk POST with GETs ---\n"
            + postOut
            + "--- wrk GET ---\n"
            + getOut);
  }

  private static Running wrkPosts(Path script, String auth, String base, int seconds, int clients) {
    return new Running(
        new ProcessBuilder(
            "wrk",
            "-t1",
            "-c" + clients,
            "-d" + seconds + "s",
            "--latency",
            "-s",
            script.toString(),
            "-H",
            auth,
            base + "/v1/runs"));
  }

  /** A load generator process whose merged output is read when it ends. */
  private static final class Running {
    private final ProcessBuilder builder;
    private Process process;

    Running(ProcessBuilder builder) {
      this.builder = builder.redirectErrorStream(true);
    }

    Running start() throws IOException {
      process = builder.start();
      return this;
    }

    String waitForOutput() throws IOException, InterruptedException {
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      process.waitFor();
      return out;
    }
  }

  /** Whether every POST carries a new {@code Idempotency-Key} ({@code --idempotency-key true}). */
  private boolean withKeys() {
    return Boolean.parseBoolean(opt("idempotency-key", "false"));
  }

  /** A wrk request function giving every request a new Idempotency-Key (unique per wrk thread). */
  private static final String KEYED_REQUESTS =
      """
      local counter = 0
      local prefix = nil
      request = function()
        if prefix == nil then
          math.randomseed(os.time() + os.clock() * 1000000)
          prefix = tostring(math.random(1, 1000000000))
        end
        counter = counter + 1
        local h = {}
        for k, v in pairs(wrk.headers) do h[k] = v end
        h["Idempotency-Key"] = "bench-" .. prefix .. "-" .. counter
        return wrk.format(nil, nil, h, nil)
      end
      """;

  private static String match(String text, String regex, String dflt) {
    Matcher m = Pattern.compile(regex).matcher(text);
    return m.find() ? m.group(1) : dflt;
  }

  private static double number(String text, String regex) {
    return Double.parseDouble(match(text, regex, "0"));
  }

  private void jdkLoad(
      String base, String token, String runId, int seconds, int clients, boolean report)
      throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    AtomicLong ok = new AtomicLong();
    AtomicLong bad = new AtomicLong();
    ConcurrentLinkedQueue<Long> getNanos = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    HttpRequest post = post(base, token);
    HttpRequest get =
        HttpRequest.newBuilder(URI.create(base + "/v1/runs/" + runId))
            .header("Authorization", "Bearer " + token)
            .build();
    long start = System.nanoTime();
    for (int i = 0; i < clients + 8; i++) {
      boolean getter = i >= clients;
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    while (System.nanoTime() < end) {
                      try {
                        long t0 = System.nanoTime();
                        HttpRequest req =
                            getter
                                ? get
                                : withKeys()
                                    ? HttpRequest.newBuilder(post, (n, v) -> true)
                                        .header(
                                            "Idempotency-Key",
                                            "bench-" + java.util.UUID.randomUUID())
                                        .build()
                                    : post;
                        int s = http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode();
                        if (getter) {
                          getNanos.add(System.nanoTime() - t0);
                        } else if (s == 201) {
                          ok.incrementAndGet();
                        } else {
                          bad.incrementAndGet();
                        }
                      } catch (IOException x) {
                        bad.incrementAndGet();
                      } catch (InterruptedException x) {
                        return;
                      }
                    }
                  }));
    }
    for (Thread t : threads) {
      t.join();
    }
    double secs = (System.nanoTime() - start) / 1e9;
    if (!report) {
      return;
    }
    double rps = ok.get() / secs;
    List<Long> g = new ArrayList<>(getNanos);
    g.sort(null);
    long p99 = g.isEmpty() ? 0 : g.get(Math.min(g.size() - 1, (int) (g.size() * 0.99)));
    row(
        "POST /v1/runs per second (JDK client, " + clients + " clients, " + seconds + " s)",
        String.format(Locale.ROOT, "%.0f /s", rps),
        ">= 5000 /s",
        pass(rps >= 5000));
    row("  failed POSTs", Long.toString(bad.get()), "0", pass(bad.get() == 0));
    row(
        "GET /v1/runs/{id} p99 during the POST load (8 clients)",
        String.format(Locale.ROOT, "%.1f ms", p99 / 1e6),
        "-",
        "");
  }

  private void streams(String base, String token, String runId, long pid, int n) throws Exception {
    long before = heapUsedKb(pid);
    HttpClient sse =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(30))
            .build();
    HttpRequest req =
        HttpRequest.newBuilder(URI.create(base + "/v1/runs/" + runId + "/events"))
            .header("Authorization", "Bearer " + token)
            .header("Accept", "text/event-stream")
            .build();
    List<InputStream> open = new ArrayList<>();
    int failed = 0;
    long t0 = System.nanoTime();
    long deadline = t0 + Duration.ofSeconds(Long.parseLong(opt("stream-seconds", "180"))).toNanos();
    for (int batch = 0; batch < n && System.nanoTime() < deadline; batch += 500) {
      List<CompletableFuture<HttpResponse<InputStream>>> fs = new ArrayList<>();
      for (int i = batch; i < Math.min(n, batch + 500); i++) {
        fs.add(sse.sendAsync(req, HttpResponse.BodyHandlers.ofInputStream()));
      }
      for (CompletableFuture<HttpResponse<InputStream>> f : fs) {
        try {
          HttpResponse<InputStream> r =
              f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          if (r.statusCode() == 200) {
            open.add(r.body());
          } else {
            failed++;
            r.body().close();
          }
        } catch (Exception x) {
          failed++;
          f.cancel(true);
        }
      }
    }
    long openNanos = System.nanoTime() - t0;
    Thread.sleep(2000);
    long after = heapUsedKb(pid);
    long rss = rssKb(pid);
    row(
        "SSE streams open (of " + n + ")",
        open.size() + " in " + ms(openNanos),
        n + "",
        pass(open.size() == n));
    row("  refused or failed streams", Integer.toString(failed), "0", pass(failed == 0));
    row(
        "server heap used after GC with the streams open",
        after / 1024 + " MB (" + (after - before) / 1024 + " MB for streams)",
        "<= 1024 MB",
        pass(after > 0 && after <= 1024 * 1024 && open.size() == n));
    row("server RSS with the streams open", rss / 1024 + " MB", "-", "");
    for (InputStream in : open) {
      in.close();
    }
  }

  /** The child's used heap after a full GC, from {@code jcmd}; -1 if jcmd fails. */
  private static long heapUsedKb(long pid) throws Exception {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    new ProcessBuilder(jcmd, Long.toString(pid), "GC.run")
        .redirectErrorStream(true)
        .start()
        .waitFor();
    Process p =
        new ProcessBuilder(jcmd, Long.toString(pid), "GC.heap_info")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    Matcher m = Pattern.compile("used (\\d+)K").matcher(out);
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
