package dev.keel.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class RunLifecycleTest {
  @Test
  void terminalStatusesHaveNoWayOut() {
    for (RunStatus s : RunStatus.values()) {
      if (s.terminal()) {
        assertThat(RunLifecycle.next(s)).isEmpty();
      } else {
        assertThat(RunLifecycle.next(s)).contains(RunStatus.CANCELLED, RunStatus.FAILED);
      }
    }
  }

  @Test
  void illegalTransitionIsRejectedNamingBothStatuses() {
    assertThatThrownBy(() -> RunLifecycle.check(RunStatus.COMPLETED, RunStatus.RUNNING))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("illegal run transition completed -> running");
    assertThatThrownBy(() -> RunLifecycle.check(RunStatus.QUEUED, RunStatus.WAITING))
        .hasMessageContaining("queued -> waiting");
    assertThat(RunLifecycle.check(RunStatus.WAITING, RunStatus.RUNNING))
        .isEqualTo(RunStatus.RUNNING);
  }

  /**
   * Renders the transition table into docs/run-lifecycle.md. If the committed file differs, the
   * test rewrites it and fails, so a change to the table cannot land without its diagram.
   */
  @Test
  void diagramInTheDocsMatchesTheTransitionTable() throws Exception {
    String rendered =
        "# Run lifecycle\n\n"
            + "Generated from `RunLifecycle` by `RunLifecycleTest`; do not edit by hand.\n"
            + "`waiting` means the run needs something from outside (an approval, an answer);\n"
            + "`paused` means a person paused it; `timed_out` is a deadline or budget end.\n\n"
            + "```mermaid\n"
            + RunLifecycle.mermaid()
            + "```\n";
    Path docs = Path.of("..", "docs", "run-lifecycle.md");
    String committed = Files.exists(docs) ? Files.readString(docs) : "";
    if (!committed.equals(rendered)) {
      Files.createDirectories(docs.getParent());
      Files.writeString(docs, rendered);
    }
    assertThat(committed)
        .as("docs/run-lifecycle.md was out of date and has been regenerated; commit it")
        .isEqualTo(rendered);
  }
}
