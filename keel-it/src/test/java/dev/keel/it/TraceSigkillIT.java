package dev.keel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.keel.engine.Engine;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
import dev.keel.observe.OtlpReceiver;
import dev.keel.observe.RunTraceIds;
import dev.keel.run.CrashPoint;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunId;
import dev.keel.run.RunStatus;
import dev.keel.store.RunStore;
import dev.keel.store.jdbc.Stores;
import dev.keel.testkit.LedgerService;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.Span;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A run's trace survives a real SIGKILL: a worker JVM exporting over OTLP/HTTP to a receiver in
 * this process is killed in the middle of a run (parked after its first tool result is recorded), a
 * second worker JVM finishes the run, and every span both exported is in the one trace derived from
 * the run id. The killed execution's agent span never ended, so it was never exported; its finished
 * children name it as parent, and the resumed execution's agent span carries a link to exactly that
 * span id. The second worker's metrics, pushed over OTLP, count the resume a success.
 */
class TraceSigkillIT {
  static final Duration LEASE = Duration.ofSeconds(3);

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "postgres"})
  void aRunKilledMidwayAndFinishedElsewhereIsOneLinkedTrace(String kind) throws Exception {
    String url = Databases.fresh(kind);
    try (OtlpReceiver receiver = new OtlpReceiver();
        LedgerService ledger = new LedgerService();
        RunStore store = Stores.open(url, FaultInjector.NONE)) {
      Engine parent = CrashAgent.engine(store, ledger.url(), FaultInjector.NONE, LEASE);
      RunId runId =
          new Runs(parent)
              .create(
                  Runs.Request.of(
                          "t1", "crash", JsonValue.object("goal", "plan:charge,charge,charge"))
                      .withIdempotencyKey("trace-1"))
              .runId();
      String trace = RunTraceIds.of(runId.value());
      String lostAgent = RunTraceIds.agentSpan(runId.value(), 1);

      List<Span> beforeKill;
      try (Child first =
          Child.start(
              url,
              ledger.url(),
              CrashPoint.B8_TOOL_RESULT_RECORDED.name(),
              Long.toString(LEASE.toMillis()),
              "0",
              "worker",
              receiver.endpoint())) {
        first.await("PARKED", Duration.ofSeconds(60));
        // The finished spans of the first execution (its model call and tool call) are exported
        // on the batch processor's schedule; wait for them, then kill mid-run.
        await(
            () -> !receiver.named("chat ").isEmpty() && !receiver.named("execute_tool ").isEmpty(),
            "the first worker's chat and execute_tool spans; stderr:\n" + first.stderr());
        first.kill();
        beforeKill = List.copyOf(receiver.spans);
      }
      assertThat(beforeKill)
          .as("the killed worker never ended its agent span")
          .noneMatch(s -> s.getName().startsWith("invoke_agent "));
      assertThat(beforeKill)
          .as("the killed execution's spans name its (lost) agent span as parent")
          .allMatch(s -> hex(s.getParentSpanId()).equals(lostAgent));

      try (Child second =
          Child.start(
              url,
              ledger.url(),
              "none",
              Long.toString(LEASE.toMillis()),
              "0",
              "worker",
              receiver.endpoint())) {
        await(
            () -> store.rows().getFirst().status().terminal(),
            "the run to end; stderr:\n" + second.stderr());
        await(
            () -> !receiver.named("invoke_agent ").isEmpty(),
            "the resumed agent span; stderr:\n" + second.stderr());
        await(
            () ->
                receiver
                    .latestSum("keel.resumes", Map.of("agent", "crash", "outcome", "success"))
                    .isPresent(),
            "keel.resumes pushed; got " + receiver.metricNames());
        assertThat(store.rows().getFirst().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(
                receiver.latestSum("keel.resumes", Map.of("agent", "crash", "outcome", "success")))
            .hasValue(1.0);

        List<Span> spans = List.copyOf(receiver.spans);
        assertThat(spans).allMatch(s -> hex(s.getTraceId()).equals(trace));
        List<Span> agents = receiver.named("invoke_agent ");
        assertThat(agents).hasSize(1);
        Span resumed = agents.getFirst();
        assertThat(resumed.getName()).isEqualTo("invoke_agent crash");
        assertThat(str(resumed, "keel.worker.id")).isEqualTo("child-" + second.pid());
        assertThat(num(resumed, "keel.lease.epoch")).isEqualTo(2);
        assertThat(hex(resumed.getSpanId())).isEqualTo(RunTraceIds.agentSpan(runId.value(), 2));
        assertThat(str(resumed, "keel.execution.outcome")).isEqualTo("ended");
        assertThat(str(resumed, "keel.run.status")).isEqualTo("completed");
        // The link: from the resumed agent span to the span the killed execution's work hangs on.
        assertThat(resumed.getLinksList()).hasSize(1);
        Span.Link link = resumed.getLinks(0);
        assertThat(hex(link.getTraceId())).isEqualTo(trace);
        assertThat(hex(link.getSpanId())).isEqualTo(lostAgent);
        assertThat(beforeKill.getFirst().getParentSpanId()).isEqualTo(link.getSpanId());
        // The resumed execution's own work hangs on the resumed agent span, and it did not redo
        // the tool call whose result the killed worker had recorded: three charges in all.
        // Every other span hangs on one of the two agent spans: the killed execution's work on
        // the lost one, the resumed execution's work (there is some) on the resumed one.
        assertThat(spans)
            .filteredOn(
                s ->
                    !s.getSpanId().equals(resumed.getSpanId())
                        && !hex(s.getParentSpanId()).equals(lostAgent))
            .isNotEmpty()
            .allMatch(s -> s.getParentSpanId().equals(resumed.getSpanId()));
        // It did not redo the tool call whose result the killed worker had recorded.
        long tools =
            spans.stream().filter(s -> s.getName().equals("execute_tool ledger.charge")).count();
        assertThat(tools).isEqualTo(3);
      }
    } finally {
      Databases.drop(url);
    }
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  private static String hex(ByteString b) {
    return HexFormat.of().formatHex(b.toByteArray());
  }

  private static String str(Span s, String key) {
    for (KeyValue kv : s.getAttributesList()) {
      if (kv.getKey().equals(key)) {
        return kv.getValue().getStringValue();
      }
    }
    return "";
  }

  private static long num(Span s, String key) {
    for (KeyValue kv : s.getAttributesList()) {
      if (kv.getKey().equals(key)) {
        return kv.getValue().getIntValue();
      }
    }
    return -1;
  }
}
