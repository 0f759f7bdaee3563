package dev.keel.engine;

import static dev.keel.testkit.ScriptedModel.call;
import static dev.keel.testkit.ScriptedModel.calls;
import static dev.keel.testkit.ScriptedModel.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.agent.AgentSpec;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.Message;
import dev.keel.model.ModelProvider;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.run.Budget;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.run.StateCodec;
import dev.keel.store.ApprovalRecord;
import dev.keel.store.Lease;
import dev.keel.store.LeaseLostException;
import dev.keel.store.RunRow;
import dev.keel.store.SignalPayload;
import dev.keel.testkit.InvariantChecker;
import dev.keel.testkit.ScriptedModel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A replay test per decision kind: a run that makes the decision is rebuilt from its events (the
 * fold gives the live state, every recorded answer reads into the recorded decisions, every step's
 * context pack is reassembled to the recorded references), and the loop, re-executed in a fresh
 * store against a model that only repeats the recorded answers, makes the same decisions and
 * records the same events.
 */
class ReplayPerDecisionTest {
  private static final JsonObject PLAN =
      JsonValue.object(
          "steps",
          List.of(JsonValue.object("id", "1", "title", "Look up", "status", "in_progress")));

  private static final List<AgentSpec> AGENTS =
      List.of(
          AgentSpec.builder("shop")
              .instructions("You help customers.", "1")
              .tools(List.of("shop.lookup", "shop.charge", "shop.email", "shop.push"))
              .budget(EngineTest.BUDGET)
              .maxOutputTokens(256)
              .capabilities(Set.of("plan", "ask_person", "finish", "spawn"))
              .ambiguityThreshold(0.8)
              .build(),
          AgentSpec.builder("helper")
              .instructions("You look things up.", "1")
              .tools(List.of("shop.lookup"))
              .budget(new Budget(8, 8, 8, 1_000_000, Duration.ofHours(1)))
              .maxOutputTokens(128)
              .build());

  private static JsonObject candidates(double a, double b) {
    return JsonValue.object(
        "candidates",
        List.of(
            JsonValue.object("value", "A-1", "confidence", a),
            JsonValue.object("value", "B-2", "confidence", b)));
  }

  /** The first answer of the scenario of {@code kind}; every scenario then answers in text. */
  private static ModelResponse first(String kind) {
    return switch (kind) {
      case "respond" -> text("hello");
      case "call_tools" ->
          calls(
              call("l", "shop.lookup", JsonValue.object("order", "A-1")),
              call("e", "shop.email", JsonValue.object("to", "x")));
      case "update_plan" -> calls(call("p", Decision.UPDATE_PLAN, PLAN));
      case "ask_person" ->
          calls(
              call(
                  "q",
                  Decision.ASK_PERSON,
                  JsonValue.object("question", "Which?", "choices", List.of("A-1", "B-2"))));
      case "finish" -> calls(call("f", Decision.FINISH, JsonValue.object("text", "done")));
      case "fail" -> calls(call("x", Decision.FAIL, JsonValue.object("reason", "no such order")));
      case "spawn" ->
          calls(call("s", Decision.SPAWN, JsonValue.object("agent", "helper", "goal", "find A-1")));
      case "choose" -> calls(call("c", Decision.CHOOSE, candidates(0.9, 0.1)));
      case "ambiguity" -> calls(call("c", Decision.CHOOSE, candidates(0.5, 0.4)));
      case "invalid" ->
          calls(
              call(
                  "p",
                  Decision.UPDATE_PLAN,
                  JsonValue.object(
                      "steps", List.of(JsonValue.object("title", "x", "status", "maybe")))));
      default -> throw new IllegalArgumentException(kind);
    };
  }

  private static ScriptedModel.Script script(String kind) {
    return (req, step) -> {
      String system = ((Message.System) req.messages().getFirst()).text();
      if (system.startsWith("You look things up.")) {
        return step == 1
            ? calls(call("l", "shop.lookup", JsonValue.object("order", "A-1")))
            : text("found A-1");
      }
      if (step == 1) {
        return first(kind);
      }
      String last =
          req.messages().getLast() instanceof Message.ToolResult r ? r.content().toString() : "";
      return text("after " + kind + ": " + last);
    };
  }

  private static Harness harness(ModelProvider model) {
    return new Harness(
        model,
        AGENTS,
        EngineTest.BUDGET,
        FaultInjector.NONE,
        new Harness.InMemoryRunStoreFactory());
  }

  /** Runs until nothing is left, approving every call and answering every question the same way. */
  private static void settle(Harness h) throws InterruptedException {
    for (int idle = 0, guard = 0; idle < 3 && guard < 300; guard++) {
      for (ApprovalRecord a : h.store.approvals("acme", Optional.of("pending"), 100)) {
        h.store.decide(
            "acme",
            new SignalPayload.ApprovalDecision(
                a.approvalId(),
                "approved",
                "bob",
                a.kind().equals("question")
                    ? Optional.of(JsonValue.object("answer", "B-2"))
                    : Optional.empty(),
                ""));
      }
      List<Lease> leases = h.store.claim("w1", h.engine.config().leaseTime(), 100);
      if (leases.isEmpty()) {
        idle++;
        h.clock.advance(Duration.ofSeconds(3));
        continue;
      }
      idle = 0;
      for (Lease l : leases) {
        try {
          RunExecution.load(h.engine, l, h.engine.ticker().getAsLong()).run();
        } catch (LeaseLostException ignored) {
          // another execution owns it
        }
      }
    }
  }

  private static Map<RunId, List<EventEnvelope>> logs(Harness h) {
    Map<RunId, List<EventEnvelope>> out = new LinkedHashMap<>();
    for (RunRow r : h.store.rows()) {
      out.put(r.runId(), h.store.events(r.runId(), 0, 10_000));
    }
    return out;
  }

  private static List<String> actions(List<EventEnvelope> log) {
    List<String> out = new ArrayList<>();
    for (EventEnvelope e : log) {
      if (e.event() instanceof RunEvent.DecisionRecorded d && d.step() > 0) {
        if (d.summary().get("context").isPresent()) {
          out.add(d.action());
        }
      }
    }
    return out;
  }

  private static List<String> packs(List<EventEnvelope> log) {
    List<String> out = new ArrayList<>();
    for (EventEnvelope e : log) {
      if (e.event() instanceof RunEvent.DecisionRecorded d
          && d.summary().get("context").orElse(null) instanceof JsonObject c) {
        out.add(c.string("pack").orElseThrow());
      }
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "respond",
        "call_tools",
        "update_plan",
        "ask_person",
        "finish",
        "fail",
        "spawn",
        "choose",
        "ambiguity",
        "invalid"
      })
  void rebuildingTheRunFromItsEventsGivesTheSameDecisions(String kind) throws Exception {
    Harness live = harness(ScriptedModel.of(script(kind)));
    RunId id = live.start("replay " + kind);
    settle(live);
    Map<RunId, List<EventEnvelope>> recorded = logs(live);
    List<EventEnvelope> log = recorded.get(id);
    assertThat(actions(log))
        .as("the scenario makes the decision")
        .first()
        .asString()
        .contains(kind);
    assertThat(live.state(id).status().terminal()).isTrue();
    assertThat(InvariantChecker.check(live.store)).isEmpty();

    Map<String, Deque<ModelResponse>> answers = new LinkedHashMap<>();
    for (List<EventEnvelope> l : recorded.values()) {
      RunState s = RunState.fold(l);
      // 1. the fold of the log is the live state, and survives the checkpoint codec
      assertThat(s).isEqualTo(live.state(s.runId()));
      assertThat(StateCodec.fromJson(StateCodec.toJson(s).toString())).isEqualTo(s);
      AgentSpec agent = live.engine.agentOf(s);
      List<String> reread = new ArrayList<>();
      Deque<ModelResponse> q = new ArrayDeque<>();
      for (EventEnvelope e : l) {
        if (e.event() instanceof RunEvent.ModelResponded r) {
          reread.add(Decision.action(Decision.read(r.response(), agent)));
          q.add(r.response());
        }
      }
      // 2. every recorded answer reads into the decisions recorded for it
      assertThat(reread).isEqualTo(actions(l));
      answers.put(agent.instructions(), q);
      // 3. every step's context pack is rebuilt to the recorded references
      assertThat(ContextAudit.replay(live.engine, l))
          .hasSize(reread.size())
          .allMatch(ContextAudit.Step::matches);
    }

    // 4. re-executed against the recorded answers only, the loop decides and records the same
    Harness replay =
        harness(
            new ModelProvider() {
              @Override
              public String name() {
                return "replay";
              }

              @Override
              public ModelResponse complete(ModelRequest request) {
                String system = ((Message.System) request.messages().getFirst()).text();
                Deque<ModelResponse> q =
                    answers.entrySet().stream()
                        .filter(e -> system.startsWith(e.getKey()))
                        .findFirst()
                        .orElseThrow()
                        .getValue();
                ModelResponse next = q.poll();
                if (next == null) {
                  throw new AssertionError("the replay asked for more answers than were recorded");
                }
                return next;
              }
            });
    RunId again = replay.start("replay " + kind);
    assertThat(again).isEqualTo(id);
    settle(replay);
    assertThat(answers.values()).allMatch(Deque::isEmpty);
    Map<RunId, List<EventEnvelope>> replayed = logs(replay);
    assertThat(replayed.keySet()).isEqualTo(recorded.keySet());
    for (RunId run : recorded.keySet()) {
      List<EventEnvelope> a = recorded.get(run);
      List<EventEnvelope> b = replayed.get(run);
      assertThat(b.stream().map(e -> e.event().type()).toList())
          .as("events of " + run)
          .isEqualTo(a.stream().map(e -> e.event().type()).toList());
      assertThat(actions(b)).isEqualTo(actions(a));
      assertThat(packs(b)).isEqualTo(packs(a));
      RunState ra = RunState.fold(a);
      RunState rb = RunState.fold(b);
      assertThat(rb.status()).isEqualTo(ra.status());
      assertThat(rb.output()).isEqualTo(ra.output());
      assertThat(rb.error()).isEqualTo(ra.error());
      assertThat(rb.messages()).isEqualTo(ra.messages());
    }
  }
}
