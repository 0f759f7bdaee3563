package dev.keel.server;

import dev.keel.run.EventEnvelope;
import dev.keel.run.RunId;
import dev.keel.store.RunRow;
import dev.keel.store.RunStore;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Server-sent events of one run: replays the stored events after a sequence, then tails new ones
 * until the run ends, the client leaves or the server shuts down.
 *
 * <p>Implementation notes. Events are stored before they are sent, so a client that reconnects with
 * {@code Last-Event-ID: N} gets exactly the events after N, each once and in order. The stream
 * reads the store in pages of {@value #PAGE} events and writes each page before reading the next,
 * so a slow client holds at most one page in memory and blocks only its own virtual thread. The
 * store has no change feed, so an idle stream polls it, every {@code server.stream-poll} at first,
 * backing off to {@link #MAX_IDLE_POLL} while nothing happens. The run's status is read before the
 * page: when it was terminal and the page is empty, nothing can follow and the stream ends. Streams
 * are capped per key (429) and in total (503).
 */
final class EventStream {
  static final int PAGE = 256;

  /**
   * The longest wait between polls of a stream that has seen nothing new: idle streams back off
   * from {@code server.stream-poll} to this, so 10,000 streams of waiting runs cost the store about
   * 20,000 reads a second instead of 400,000; a new event resets the wait.
   */
  static final java.time.Duration MAX_IDLE_POLL = java.time.Duration.ofMillis(1000);

  private final RunStore store;
  private final ServerConfig cfg;
  private final Metrics metrics;
  private final Map<String, AtomicInteger> perKey = new ConcurrentHashMap<>();
  private final AtomicInteger total = new AtomicInteger();
  private volatile boolean closing;

  EventStream(RunStore store, ServerConfig cfg, Metrics metrics) {
    this.store = store;
    this.cfg = cfg;
    this.metrics = metrics;
  }

  /** Asks every open stream to send a final event and end. */
  void close() {
    closing = true;
  }

  int open() {
    return total.get();
  }

  /** Streams {@code runId} after {@code after} to {@code res} for key {@code keyId}. */
  void stream(HttpServletResponse res, String keyId, RunId runId, long after)
      throws InterruptedException {
    if (closing) {
      throw new ApiException(
          503, "shutting_down", "Shutting down", "the server is shutting down; reconnect shortly");
    }
    AtomicInteger mine = perKey.computeIfAbsent(keyId, k -> new AtomicInteger());
    if (mine.incrementAndGet() > cfg.streamsPerKey()) {
      mine.decrementAndGet();
      throw new ApiException(
              429,
              "too_many_streams",
              "Too many event streams",
              "limit limits.streams-per-key ("
                  + cfg.streamsPerKey()
                  + " open streams per API key) reached; close a stream first")
          .withHeader("Retry-After", "1");
    }
    if (total.incrementAndGet() > cfg.streamsTotal()) {
      total.decrementAndGet();
      mine.decrementAndGet();
      throw new ApiException(
              503,
              "too_many_streams",
              "Server stream capacity reached",
              "limit limits.streams-total ("
                  + cfg.streamsTotal()
                  + " open streams) reached; retry shortly")
          .withHeader("Retry-After", "1");
    }
    metrics.openStreams.incrementAndGet();
    try {
      pump(res, runId, after);
    } catch (IOException x) {
      // The client went away; nothing to clean up beyond the counters.
    } finally {
      metrics.openStreams.decrementAndGet();
      total.decrementAndGet();
      mine.decrementAndGet();
    }
  }

  private void pump(HttpServletResponse res, RunId runId, long after)
      throws IOException, InterruptedException {
    res.setStatus(200);
    res.setContentType("text/event-stream");
    res.setCharacterEncoding("UTF-8");
    res.setHeader("Cache-Control", "no-cache");
    res.setHeader("X-Accel-Buffering", "no");
    OutputStream out = res.getOutputStream();
    out.write(
        ": stream of run ".concat(runId.value()).concat("\n\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
    long last = after;
    long lastWrite = System.nanoTime();
    java.time.Duration idle = cfg.streamPoll();
    while (true) {
      if (closing) {
        write(out, "event: server.closing\ndata: {\"reason\":\"shutdown\"}\n\n");
        return;
      }
      boolean terminal = store.row(runId).map(RunRow::status).map(s -> s.terminal()).orElse(true);
      List<EventEnvelope> page = store.events(runId, last, PAGE);
      if (!page.isEmpty()) {
        StringBuilder sb = new StringBuilder(page.size() * 256);
        for (EventEnvelope e : page) {
          sb.append("id: ")
              .append(e.seq())
              .append("\nevent: ")
              .append(e.event().type())
              .append("\ndata: ")
              .append(Wire.event(e))
              .append("\n\n");
          last = e.seq();
        }
        write(out, sb.toString());
        lastWrite = System.nanoTime();
        idle = cfg.streamPoll();
        continue;
      }
      if (terminal) {
        return;
      }
      if (System.nanoTime() - lastWrite >= cfg.keepAlive().toNanos()) {
        write(out, ": keep-alive\n\n");
        lastWrite = System.nanoTime();
      }
      Thread.sleep(idle);
      idle =
          idle.multipliedBy(2).compareTo(MAX_IDLE_POLL) > 0 ? MAX_IDLE_POLL : idle.multipliedBy(2);
    }
  }

  private static void write(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }
}
