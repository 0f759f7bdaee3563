package dev.keel.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.Hashes;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.store.RunRow;
import dev.keel.store.RunStore;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills (SIGKILL) a process in the middle of group-committed appends and checks that the file
 * reopens with every acknowledged append, dense sequences and an intact hash chain.
 */
class SqliteCrashTest {
  @TempDir Path dir;

  @Test
  @Timeout(120)
  void aKilledWriterLosesNoAcknowledgedAppendAndLeavesAValidLog() throws Exception {
    String url = "jdbc:sqlite:" + dir.resolve("crash.db");
    int runs = 8;
    Process child =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                SqliteCrashChild.class.getName(),
                url,
                Integer.toString(runs))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    Map<String, Long> acked = new HashMap<>();
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      int lines = 0;
      String line;
      while (lines < 400 && (line = in.readLine()) != null) {
        String[] parts = line.split(" ", 3);
        acked.merge(parts[1], Long.parseLong(parts[2]), Math::max);
        lines++;
      }
      child.destroyForcibly(); // SIGKILL: no shutdown hooks, no close
      child.waitFor(30, TimeUnit.SECONDS);
    }
    assertThat(acked).isNotEmpty();

    try (RunStore store = new SqliteRunStore(SqliteConfig.of(url), FaultInjector.NONE)) {
      for (Map.Entry<String, Long> a : acked.entrySet()) {
        RunId id = RunId.of(a.getKey());
        List<EventEnvelope> events = store.events(id, 0, Integer.MAX_VALUE);
        assertThat((long) events.size())
            .as("events of %s", id)
            .isGreaterThanOrEqualTo(a.getValue());
        for (int i = 0; i < events.size(); i++) {
          assertThat(events.get(i).seq()).isEqualTo(i + 1);
        }
        RunState folded = RunState.fold(events);
        String chain = Hashes.GENESIS;
        List<String> hashes = store.eventHashes(id);
        for (int i = 0; i < events.size(); i++) {
          chain = Hashes.chain(chain, events.get(i));
          assertThat(hashes.get(i)).isEqualTo(chain);
        }
        RunRow row = store.row(id).orElseThrow();
        assertThat(row.lastSeq()).isEqualTo(events.size());
        assertThat(folded.chainHash()).isEqualTo(chain);
      }
    }
  }
}
