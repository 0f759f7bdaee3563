package dev.keel.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonLimits;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue.JsonNumber;
import dev.keel.json.JsonValue.JsonObject;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Server-sent events over real HTTP: resume, exactly-once delivery, caps and shutdown. */
class EventStreamIT {

  /** One SSE frame. */
  record Frame(long id, String event, String data) {}

  static final class Stream implements AutoCloseable {
    final HttpResponse<InputStream> response;
    final BufferedReader reader;

    Stream(HttpResponse<InputStream> response) {
      this.response = response;
      this.reader =
          new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
    }

    /** The next frame, or null when the stream ended. Comments go to {@code comments}. */
    Frame next(List<String> comments) throws Exception {
      long id = -1;
      String event = null;
      String data = null;
      String line;
      while ((line = reader.readLine()) != null) {
        if (line.isEmpty()) {
          if (event != null) {
            return new Frame(id, event, data);
          }
          continue;
        }
        if (line.startsWith(":")) {
          comments.add(line);
        } else if (line.startsWith("id: ")) {
          id = Long.parseLong(line.substring(4));
        } else if (line.startsWith("event: ")) {
          event = line.substring(7);
        } else if (line.startsWith("data: ")) {
          data = line.substring(6);
        }
      }
      return null;
    }

    @Override
    public void close() throws java.io.IOException {
      response.body().close();
    }
  }

  static Stream open(TestServer t, String runId, String token, long lastEventId) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(t.base() + "/v1/runs/" + runId + "/events"))
            .header("Authorization", "Bearer " + token)
            .header("Accept", "text/event-stream")
            .timeout(Duration.ofSeconds(30));
    if (lastEventId >= 0) {
      b.header("Last-Event-ID", Long.toString(lastEventId));
    }
    return new Stream(t.http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream()));
  }

  @ParameterizedTest
  @EnumSource(TestServer.Store.class)
  void aThousandReconnectsSeeEveryEventOnceAndInOrder(TestServer.Store kind) throws Exception {
    try (TestServer t =
        new TestServer(
            ServerConfig.DEFAULT
                .withPort(0)
                .withRates(1e6, 1_000_000, 1e6, 1_000_000)
                .withStreams(5000, 5000),
            kind)) {
      String runId = t.createRun("chatty", "look up many orders");
      List<Long> seen = new ArrayList<>();
      long last = 0;
      int reconnects = 0;
      int duringRun = 0;
      boolean ended = false;
      while (!ended || reconnects < 1000) {
        try (Stream s = open(t, runId, t.viewer, last)) {
          assertThat(s.response.statusCode()).isEqualTo(200);
          assertThat(s.response.headers().firstValue("Content-Type").orElseThrow())
              .startsWith("text/event-stream");
          reconnects++;
          Frame f = s.next(new ArrayList<>());
          if (f == null) {
            ended = true;
            continue;
          }
          JsonObject data = (JsonObject) JsonParser.parse(f.data(), JsonLimits.TRUSTED);
          assertThat(((JsonNumber) data.get("sequence").orElseThrow()).longValueExact())
              .isEqualTo(f.id());
          assertThat(data.string("type")).contains(f.event());
          seen.add(f.id());
          last = f.id();
          if (!f.event().equals("run.completed")) {
            duringRun++;
          }
        }
        if (reconnects > 20_000) {
          throw new AssertionError("the stream never ended");
        }
      }
      assertThat(reconnects).isGreaterThanOrEqualTo(1000);
      assertThat(duringRun).isGreaterThan(500);
      for (int i = 0; i < seen.size(); i++) {
        assertThat(seen.get(i)).isEqualTo(i + 1L);
      }
      long stored = t.store.events(dev.keel.run.RunId.of(runId), 0, 100_000).size();
      assertThat(seen).hasSize((int) stored);
      assertThat(
              t.call(
                      "GET",
                      "/v1/runs/" + runId + "/events",
                      t.otherViewer,
                      null,
                      java.util.Map.of("Accept", "text/event-stream"))
                  .status())
          .isEqualTo(404);
    }
  }

  @Test
  void aTerminalRunReplaysAndClosesAndQueryAfterResumes() throws Exception {
    try (TestServer t = new TestServer()) {
      String runId = t.createRun("triage", "x");
      t.await(runId);
      t.call("POST", "/v1/runs/" + runId + "/cancel", t.operator, "{}");
      assertThat(t.await(runId).string("status")).contains("cancelled");
      List<Frame> frames = new ArrayList<>();
      try (Stream s = open(t, runId, t.viewer, -1)) {
        Frame f;
        while ((f = s.next(new ArrayList<>())) != null) {
          frames.add(f);
        }
      }
      assertThat(frames.getFirst().event()).isEqualTo("run.created");
      assertThat(frames.getLast().event()).isEqualTo("run.cancelled");
      HttpRequest req =
          HttpRequest.newBuilder(URI.create(t.base() + "/v1/runs/" + runId + "/events?after=2"))
              .header("Authorization", "Bearer " + t.viewer)
              .header("Accept", "text/event-stream")
              .build();
      try (Stream s = new Stream(t.http.send(req, HttpResponse.BodyHandlers.ofInputStream()))) {
        assertThat(s.next(new ArrayList<>()).id()).isEqualTo(3);
      }
    }
  }

  @Test
  void streamCapsAnswer429PerKeyAnd503InTotalAndShutdownSendsAFinalEvent() throws Exception {
    try (TestServer t = new TestServer(ServerConfig.DEFAULT.withPort(0).withStreams(2, 3))) {
      String runId = t.createRun("triage", "x");
      t.await(runId);
      List<Stream> open = new ArrayList<>();
      try {
        open.add(open(t, runId, t.viewer, 0));
        open.add(open(t, runId, t.viewer, 0));
        try (Stream third = open(t, runId, t.viewer, 0)) {
          assertThat(third.response.statusCode()).isEqualTo(429);
          assertThat(third.response.headers().firstValue("Retry-After")).isPresent();
        }
        open.add(open(t, runId, t.admin, 0));
        try (Stream fourth = open(t, runId, t.operator, 0)) {
          assertThat(fourth.response.statusCode()).isEqualTo(503);
        }
        Stream first = open.getFirst();
        Frame f;
        List<String> comments = new ArrayList<>();
        List<String> events = new ArrayList<>();
        Thread closer =
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        Thread.sleep(300);
                      } catch (InterruptedException x) {
                        Thread.currentThread().interrupt();
                      }
                      t.server.close();
                    });
        while ((f = first.next(comments)) != null) {
          events.add(f.event());
        }
        closer.join();
        assertThat(events).contains("approval.requested").endsWith("server.closing");
      } finally {
        for (Stream s : open) {
          s.close();
        }
      }
    }
  }

  @Test
  void idleStreamsGetKeepAliveComments() throws Exception {
    ServerConfig fast =
        new ServerConfig(
            "127.0.0.1",
            0,
            1 << 20,
            JsonLimits.UNTRUSTED,
            1000,
            1000,
            1000,
            1000,
            16,
            100,
            Duration.ofMillis(100),
            Duration.ofMillis(20));
    try (TestServer t = new TestServer(fast)) {
      String runId = t.createRun("triage", "x");
      t.await(runId);
      try (Stream s = open(t, runId, t.viewer, 1_000_000)) {
        List<String> comments = new ArrayList<>();
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    Thread.sleep(500);
                    s.close();
                  } catch (Exception x) {
                    // closing ends the read below
                  }
                });
        try {
          s.next(comments);
        } catch (java.io.IOException x) {
          // closed by the helper thread
        }
        assertThat(comments).contains(": keep-alive");
      }
    }
  }
}
