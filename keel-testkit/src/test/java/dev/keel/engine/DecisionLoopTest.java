package dev.keel.engine;

import static dev.keel.testkit.ScriptedModel.call;
import static dev.keel.testkit.ScriptedModel.calls;
import static dev.keel.testkit.ScriptedModel.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.agent.AgentSpec;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.Message;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.run.CrashPoint;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.Plan;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.run.RunStatus;
import dev.keel.run.StateCodec;
import dev.keel.store.ApprovalRecord;
import dev.keel.store.Lease;
import dev.keel.store.LeaseLostException;
import dev.keel.testkit.InvariantChecker;
import dev.keel.testkit.ScriptedModel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The loop's decisions on the scripted model: one test per decision kind, replay and crashes. */
class DecisionLoopTest {
  private static final JsonObject PLAN =
      JsonValue.object(
          "steps",
          List.of(
              JsonValue.object(
                  "id",
                  "1",
                  "title",
                  "Look up the order",
                  "status",
                  "in_progress",
                  "tool",
                  "shop.lookup"),
              JsonValue.object("id", "2", "title", "Answer", "status", "pending")));

  private static final List<String> TOOLS =
      List.of("shop.lookup", "shop.charge", "shop.email", "shop.push");

  private final List<ModelRequest> requests = new CopyOnWriteArrayList<>();

  private static AgentSpec.Builder agent() {
    return AgentSpec.builder("shop")
        .instructions("You help customers.", "7")
        .model("scripted")
        .tools(TOOLS)
        .budget(EngineTest.BUDGET)
        .maxOutputTokens(256)
        .capabilities(Set.of("plan", "ask_person", "finish"));
  }

  private Harness harness(AgentSpec agent, ScriptedModel.Script script, FaultInjector faults) {
    return harness(List.of(agent), script, faults);
  }

  private Harness harness(
      List<AgentSpec> agents, ScriptedModel.Script script, FaultInjector faults) {
    return new Harness(
        ScriptedModel.of(
            (req, step) -> {
              requests.add(req);
              return script.reply(req, step);
            }),
        agents,
        EngineTest.BUDGET,
        faults,
        new Harness.InMemoryRunStoreFactory());
  }

  private static List<RunEvent> events(Harness h, RunId id) {
    return h.store.events(id, 0, 10_000).stream().map(EventEnvelope::event).toList();
  }

  private static List<String> actions(Harness h, RunId id) {
    return events(h, id).stream()
        .filter(RunEvent.DecisionRecorded.class::isInstance)
        .map(e -> ((RunEvent.DecisionRecorded) e).action())
        .toList();
  }

  private static boolean isCheck(ModelRequest r) {
    return r.outputSchema().isPresent();
  }

  @Test
  void updatePlanAndCallToolsInOneStepThenFinishWithData() throws Exception {
    Harness h =
        harness(
            agent().build(),
            ScriptedModel.steps(
                calls(
                    call("p", Decision.UPDATE_PLAN, PLAN),
                    call("l", "shop.lookup", JsonValue.object("order", "A-1"))),
                calls(
                    call(
                        "f",
                        Decision.FINISH,
                        JsonValue.object(
                            "text", "Order A-1 is fine", "data", JsonValue.object("ok", true))))),
            FaultInjector.NONE);
    RunId id = h.start("check A-1");
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(s.output().orElseThrow())
        .isEqualTo(
            JsonValue.object("text", "Order A-1 is fine", "data", JsonValue.object("ok", true)));
    assertThat(s.loop().plan().revision()).isEqualTo(1);
    assertThat(s.loop().plan().steps())
        .extracting(Plan.Step::title)
        .containsExactly("Look up the order", "Answer");
    assertThat(actions(h, id)).containsExactly("update_plan+call_tools", "finish");
    assertThat(events(h, id))
        .extracting(RunEvent::type)
        .contains("plan.updated", "tool.succeeded", "answer.drafted", "output.recorded");
    // the tool list offered the pseudo-tools, and step 2 saw the plan and every call's result
    assertThat(requests.getFirst().tools())
        .extracting(ModelRequest.ToolSchema::name)
        .contains(Decision.UPDATE_PLAN, Decision.ASK_PERSON, Decision.FINISH, Decision.FAIL);
    ModelRequest second = requests.get(1);
    assertThat(((Message.System) second.messages().getFirst()).text())
        .contains("Current plan (revision 1)")
        .contains("[in_progress] 1: Look up the order (tool shop.lookup)");
    assertThat(second.messages().stream().filter(Message.ToolResult.class::isInstance)).hasSize(2);
    assertThat(h.invocations).hasValue(1);
    assertThat(InvariantChecker.check(h.store)).isEmpty();
  }

  @Test
  void respondWithTextIsTheOutput() throws Exception {
    Harness h = harness(agent().build(), ScriptedModel.steps(text("hello")), FaultInjector.NONE);
    RunId id = h.start("hi");
    h.runUntilIdle();
    assertThat(h.state(id).output().orElseThrow().string("text")).contains("hello");
    assertThat(actions(h, id)).containsExactly("respond");
  }

  @Test
  void askPersonParksTheRunUntilResumeAnswersIt() throws Exception {
    Harness h =
        harness(
            agent().build(),
            (req, step) ->
                step == 1
                    ? calls(
                        call(
                            "q",
                            Decision.ASK_PERSON,
                            JsonValue.object(
                                "question", "Which order?", "choices", List.of("A-1", "B-2"))))
                    : text("You chose " + lastResult(req)),
            FaultInjector.NONE);
    RunId id = h.start("refund my order");
    h.runUntilIdle();
    RunState waiting = h.state(id);
    assertThat(waiting.status()).isEqualTo(RunStatus.WAITING);
    assertThat(h.store.row(id).orElseThrow().leaseOwner()).isEmpty();
    ApprovalRecord q = h.store.approvals("acme", Optional.of("pending"), 10).getFirst();
    assertThat(q.kind()).isEqualTo("question");
    assertThat(q.reason()).isEqualTo("Which order?");
    assertThat(q.arguments().get("choices").orElseThrow().toString()).contains("B-2");
    assertThat(h.runs.answer("other", id, JsonValue.of("B-2"), "eve")).isEmpty();

    assertThat(h.runs.answer("acme", id, JsonValue.object("text", "B-2"), "bob").orElseThrow())
        .satisfies(a -> assertThat(a.status()).isEqualTo("approved"));
    // a second answer finds the question decided: nothing changes
    assertThat(h.runs.answer("acme", id, JsonValue.of("again"), "eve").orElseThrow())
        .satisfies(a -> assertThat(a.decidedBy()).contains("bob"));
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(s.output().orElseThrow().string("text").orElseThrow()).contains("\"B-2\"");
    assertThat(actions(h, id)).containsExactly("ask_person", "respond");
    assertThat(h.store.approvals("acme", Optional.of("pending"), 10)).isEmpty();
    assertThat(InvariantChecker.check(h.store)).isEmpty();
  }

  private static String lastResult(ModelRequest req) {
    return req.messages().getLast() instanceof Message.ToolResult r ? r.content().toString() : "";
  }

  @Test
  void aPersonEditsThePlanAndTheNextStepSeesTheEdit() throws Exception {
    Harness h =
        harness(
            agent().build(),
            (req, step) ->
                step == 1
                    ? calls(
                        call("p", Decision.UPDATE_PLAN, PLAN),
                        call("q", Decision.ASK_PERSON, JsonValue.object("question", "Go on?")))
                    : text("done"),
            FaultInjector.NONE);
    RunId id = h.start("work");
    h.runUntilIdle();
    assertThat(h.state(id).status()).isEqualTo(RunStatus.WAITING);
    JsonObject edited =
        JsonValue.object(
            "steps",
            List.of(
                JsonValue.object("id", "1", "title", "Look up the order", "status", "done"),
                JsonValue.object("id", "3", "title", "Call the customer", "status", "pending")));
    assertThatThrownBy(
            () ->
                h.runs.editPlan(
                    "acme",
                    id,
                    JsonValue.object(
                        "steps", List.of(JsonValue.object("title", "x", "status", "maybe"))),
                    "bob"))
        .hasMessageContaining("steps[0].status: 'maybe'");
    assertThat(h.runs.editPlan("acme", id, edited, "bob")).isPresent();
    h.runUntilIdle();
    RunState edit = h.state(id);
    assertThat(edit.status()).isEqualTo(RunStatus.WAITING);
    assertThat(edit.loop().plan().revision()).isEqualTo(2);
    assertThat(edit.loop().plan().steps()).extracting(Plan.Step::id).containsExactly("1", "3");
    h.runs.answer("acme", id, JsonValue.of("yes"), "bob");
    h.runUntilIdle();
    assertThat(h.state(id).status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(((Message.System) requests.getLast().messages().getFirst()).text())
        .contains("Current plan (revision 2)")
        .contains("[pending] 3: Call the customer")
        .doesNotContain("Answer");
    assertThat(events(h, id))
        .filteredOn(RunEvent.PlanUpdated.class::isInstance)
        .extracting(e -> ((RunEvent.PlanUpdated) e).by())
        .containsExactly("agent", "bob");
  }

  @Test
  void failEndsTheRunWithTheReason() throws Exception {
    Harness h =
        harness(
            agent().build(),
            ScriptedModel.steps(
                calls(
                    call("x", Decision.FAIL, JsonValue.object("reason", "no such order")),
                    call("p", Decision.UPDATE_PLAN, PLAN))),
            FaultInjector.NONE);
    RunId id = h.start("refund Z-9");
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.FAILED);
    assertThat(s.error().orElseThrow().code()).isEqualTo("agent_failed");
    assertThat(s.error().orElseThrow().message()).isEqualTo("no such order");
    assertThat(actions(h, id)).containsExactly("fail+update_plan");
    assertThat(events(h, id).getLast()).isInstanceOf(RunEvent.RunFailed.class);
    assertThat(events(h, id)).noneMatch(RunEvent.PlanUpdated.class::isInstance);
    assertThat(InvariantChecker.check(h.store)).isEmpty();
  }

  @Test
  void invalidPseudoCallsAndFinishWithOtherCallsGetAnErrorBack() throws Exception {
    Harness h =
        harness(
            agent().build(),
            ScriptedModel.steps(
                calls(
                    call(
                        "p",
                        Decision.UPDATE_PLAN,
                        JsonValue.object(
                            "steps", List.of(JsonValue.object("title", "x", "status", "?")))),
                    call("f", Decision.FINISH, JsonValue.object("text", "early")),
                    call("l", "shop.lookup", JsonValue.object())),
                text("ok")),
            FaultInjector.NONE);
    RunId id = h.start("x");
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(s.output().orElseThrow().string("text")).contains("ok");
    assertThat(actions(h, id).getFirst()).isEqualTo("invalid+call_tools");
    List<Message.ToolResult> results =
        requests.get(1).messages().stream()
            .filter(Message.ToolResult.class::isInstance)
            .map(Message.ToolResult.class::cast)
            .toList();
    assertThat(results).hasSize(3);
    assertThat(results.get(0).isError()).isTrue();
    assertThat(results.get(0).content().toString()).contains("steps[0].status");
    assertThat(results.get(1).content().toString()).contains("must be the only call");
    assertThat(results.get(2).isError()).isFalse();
  }

  @Test
  void pseudoToolsWithoutTheCapabilityAreUnknownTools() throws Exception {
    Harness h =
        harness(
            agent().capabilities(Set.of()).build(),
            ScriptedModel.steps(calls(call("p", Decision.UPDATE_PLAN, PLAN)), text("ok")),
            FaultInjector.NONE);
    RunId id = h.start("x");
    h.runUntilIdle();
    assertThat(requests.getFirst().tools())
        .extracting(ModelRequest.ToolSchema::name)
        .doesNotContain(Decision.UPDATE_PLAN);
    assertThat(h.state(id).loop().plan()).isEqualTo(Plan.NONE);
    assertThat(lastResult(requests.get(1))).contains("is not allowed for agent shop");
  }

  @Test
  void approvalOverrideMakesAReadNeedAPersonAndDenyDenies() throws Exception {
    Harness h =
        harness(
            agent().approvalOverrides(Map.of("shop.lookup", "always", "shop.push", "deny")).build(),
            ScriptedModel.steps(
                calls(
                    call("l", "shop.lookup", JsonValue.object()),
                    call("p", "shop.push", JsonValue.object())),
                text("ok")),
            FaultInjector.NONE);
    RunId id = h.start("x");
    h.runUntilIdle();
    assertThat(h.state(id).status()).isEqualTo(RunStatus.WAITING);
    ApprovalRecord a = h.store.approvals("acme", Optional.of("pending"), 10).getFirst();
    assertThat(a.tool()).isEqualTo("shop.lookup");
    assertThat(a.reason()).contains("requires a person's approval");
    assertThat(events(h, id))
        .filteredOn(RunEvent.ToolCallProposed.class::isInstance)
        .extracting(e -> ((RunEvent.ToolCallProposed) e).verdict())
        .containsExactly("approval", "deny");
  }

  // ---- structured output and reflection ----

  private static final JsonObject SCHEMA =
      JsonValue.object(
          "type",
          "object",
          "required",
          List.of("order_id", "refund_usd"),
          "properties",
          JsonValue.object(
              "order_id", JsonValue.object("type", "string"),
              "refund_usd", JsonValue.object("type", "number")));

  private static ModelResponse finish(JsonObject data) {
    return calls(call("f", Decision.FINISH, JsonValue.object("text", "done", "data", data)));
  }

  @Test
  void invalidOutputGetsOneRepairWithTheErrors() throws Exception {
    Harness h =
        harness(
            agent().outputSchema(SCHEMA).build(),
            ScriptedModel.steps(
                finish(JsonValue.object("order_id", 7L)),
                finish(JsonValue.object("order_id", "A-1", "refund_usd", 4L))),
            FaultInjector.NONE);
    RunId id = h.start("x");
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(s.output().orElseThrow().get("data").orElseThrow())
        .isEqualTo(JsonValue.object("order_id", "A-1", "refund_usd", 4L));
    assertThat(s.loop().repairs()).isEqualTo(1);
    assertThat(lastResult(requests.get(1)))
        .contains("output_invalid")
        .contains("/order_id: must be string")
        .contains("/refund_usd: required");
    // the finish schema offered to the model carries the output schema
    assertThat(
            requests.getFirst().tools().stream()
                .filter(t -> t.name().equals(Decision.FINISH))
                .findFirst()
                .orElseThrow()
                .inputSchema()
                .toString())
        .contains("refund_usd");
  }

  @Test
  void outputStillInvalidAfterTheRepairsFailsTheRunWithTheErrors() throws Exception {
    Harness h =
        harness(
            agent().outputSchema(SCHEMA).maxRepairs(1).build(),
            ScriptedModel.steps(text("plain text, no data")),
            FaultInjector.NONE);
    RunId id = h.start("x");
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.FAILED);
    assertThat(s.error().orElseThrow().code()).isEqualTo("output_invalid");
    assertThat(s.error().orElseThrow().message())
        .contains("/order_id: required")
        .contains("/refund_usd: required");
    assertThat(s.usage().modelCalls()).isEqualTo(2);
    assertThat(events(h, id))
        .filteredOn(RunEvent.OutputChecked.class::isInstance)
        .extracting(e -> ((RunEvent.OutputChecked) e).result().string("next_action").orElseThrow())
        .containsExactly("repair", "fail");
  }

  @Test
  void reflectionRejectsADraftThenPassesTheRevisionAndEachCheckIsAModelCall() throws Exception {
    AtomicReference<Integer> checks = new AtomicReference<>(0);
    Harness h =
        harness(
            agent().acceptance(List.of("names the order id"), 2).build(),
            (req, step) -> {
              if (isCheck(req)) {
                checks.set(checks.get() + 1);
                String user = ((Message.User) req.messages().getLast()).text();
                String draft = user.substring(user.indexOf("Draft answer:"));
                return text(
                    draft.contains("A-1")
                        ? "{\"passed\": true, \"issues\": [], \"next_action\": \"finish\"}"
                        : "{\"passed\": false, \"issues\": [\"no order id\"], \"next_action\":"
                            + " \"revise\"}");
              }
              return step == 1 ? text("Refunded.") : text("Refunded order A-1.");
            },
            FaultInjector.NONE);
    RunId id = h.start("refund A-1");
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(s.output().orElseThrow().string("text")).contains("Refunded order A-1.");
    assertThat(checks.get()).isEqualTo(2);
    assertThat(s.loop().reflections()).isEqualTo(2);
    assertThat(s.usage().modelCalls()).isEqualTo(4);
    List<RunEvent.OutputChecked> checked =
        events(h, id).stream()
            .filter(RunEvent.OutputChecked.class::isInstance)
            .map(RunEvent.OutputChecked.class::cast)
            .toList();
    assertThat(checked).extracting(RunEvent.OutputChecked::passed).containsExactly(false, true);
    assertThat(checked.getFirst().result().get("issues").orElseThrow().toString())
        .contains("no order id");
    // the rejected draft's issues reached the model as a user message
    ModelRequest revision = requests.stream().filter(r -> !isCheck(r)).toList().get(1);
    assertThat(revision.messages().getLast().toString()).contains("no order id");
  }

  @Test
  void reflectionFailingEveryAttemptFailsTheRun() throws Exception {
    Harness h =
        harness(
            agent().acceptance(List.of("is polite"), 1).build(),
            (req, step) -> isCheck(req) ? text("not json at all") : text("no"),
            FaultInjector.NONE);
    RunId id = h.start("x");
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.FAILED);
    assertThat(s.error().orElseThrow().code()).isEqualTo("acceptance_failed");
    assertThat(s.error().orElseThrow().message()).contains("not JSON");
  }

  @Test
  void reflectionIsCountedInTheModelCallBudget() throws Exception {
    Harness h =
        harness(
            agent()
                .acceptance(List.of("x"), 3)
                .budget(new dev.keel.run.Budget(10, 1, 10, 1_000_000, Duration.ofHours(1)))
                .build(),
            (req, step) -> text("draft"),
            FaultInjector.NONE);
    RunId id = h.start("x");
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.TIMED_OUT);
    assertThat(s.error().orElseThrow().message()).contains("max_model_calls");
  }

  // ---- replay ----

  @Test
  void replayFromEventsGivesTheSameStateAndTheSameDecisions() throws Exception {
    AgentSpec spec = agent().outputSchema(SCHEMA).acceptance(List.of("ok"), 1).build();
    Harness h =
        harness(
            spec,
            (req, step) -> {
              if (isCheck(req)) {
                return text("{\"passed\": true, \"issues\": [], \"next_action\": \"finish\"}");
              }
              return switch (step) {
                case 1 ->
                    calls(
                        call("p", Decision.UPDATE_PLAN, PLAN),
                        call("l", "shop.lookup", JsonValue.object()));
                case 2 -> calls(call("q", Decision.ASK_PERSON, JsonValue.object("question", "?")));
                case 3 -> finish(JsonValue.object("order_id", 1L));
                case 4 ->
                    calls(
                        call("x", "shop.nope", JsonValue.object()),
                        call("c", "shop.charge", JsonValue.object("usd", 1L)));
                default -> finish(JsonValue.object("order_id", "A-1", "refund_usd", 2L));
              };
            },
            FaultInjector.NONE);
    RunId id = h.start("replay me");
    h.runUntilIdle();
    h.runs.answer("acme", id, JsonValue.of("go"), "bob");
    h.runUntilIdle();
    ApprovalRecord charge = h.store.approvals("acme", Optional.of("pending"), 10).getFirst();
    h.store.decide(
        "acme",
        new dev.keel.store.SignalPayload.ApprovalDecision(
            charge.approvalId(), "approved", "bob", Optional.empty(), ""));
    h.runUntilIdle();
    RunState live = h.state(id);
    assertThat(live.status()).isEqualTo(RunStatus.COMPLETED);

    List<EventEnvelope> log = h.store.events(id, 0, 10_000);
    RunState replayed = RunState.fold(log);
    assertThat(replayed).isEqualTo(live);
    assertThat(StateCodec.fromJson(StateCodec.toJson(replayed).toString())).isEqualTo(replayed);
    // every recorded answer reads into the decisions that were recorded for it
    List<String> reread = new ArrayList<>();
    List<String> recorded = new ArrayList<>();
    for (EventEnvelope e : log) {
      if (e.event() instanceof RunEvent.ModelResponded r) {
        reread.add(Decision.action(Decision.read(r.response(), spec)));
      } else if (e.event() instanceof RunEvent.DecisionRecorded d) {
        recorded.add(d.action());
      }
    }
    assertThat(recorded)
        .containsExactly("update_plan+call_tools", "ask_person", "finish", "call_tools", "finish");
    assertThat(reread).isEqualTo(recorded);
    // and the loop decides the same next thing at every point of the log
    for (int n = 1; n <= log.size(); n++) {
      RunState prefix = RunState.fold(log.subList(0, n));
      assertThat(AgentLoop.decide(prefix, spec, dev.keel.model.Pricing.FREE, h.clock.instant()))
          .isEqualTo(
              AgentLoop.decide(
                  StateCodec.fromJson(StateCodec.toJson(prefix).toString()),
                  spec,
                  dev.keel.model.Pricing.FREE,
                  h.clock.instant()));
    }
    assertThat(InvariantChecker.check(h.store)).isEmpty();
  }

  // ---- crashes at the new durable steps ----

  static final class Crash extends RuntimeException {
    private static final long serialVersionUID = 1L;
  }

  @ParameterizedTest
  @EnumSource(
      value = CrashPoint.class,
      names = {
        "B13_PLAN_UPDATED",
        "B14_QUESTION_ASKED",
        "B15_OUTPUT_CHECKED",
        "B5_MODEL_RESPONSE_RECORDED",
        "B6_TOOL_INTENT_RECORDED",
        "B11_OUTPUT_RECORDED"
      })
  void aCrashAtANewDurableStepResumesOnceAndCompletesOnce(CrashPoint point) throws Exception {
    java.util.concurrent.atomic.AtomicInteger crashes =
        new java.util.concurrent.atomic.AtomicInteger();
    FaultInjector faults =
        (p, run) -> {
          if (p == point && crashes.getAndIncrement() == 0) {
            throw new Crash();
          }
        };
    Harness h =
        harness(
            agent().outputSchema(SCHEMA).acceptance(List.of("ok"), 1).build(),
            (req, step) -> {
              if (isCheck(req)) {
                return text("{\"passed\": true, \"issues\": [], \"next_action\": \"finish\"}");
              }
              return switch (step) {
                case 1 ->
                    calls(
                        call("p", Decision.UPDATE_PLAN, PLAN),
                        call("c", "shop.lookup", JsonValue.object()));
                case 2 -> calls(call("q", Decision.ASK_PERSON, JsonValue.object("question", "?")));
                case 3 -> finish(JsonValue.object("order_id", 1L));
                default -> finish(JsonValue.object("order_id", "A-1", "refund_usd", 2L));
              };
            },
            faults);
    RunId id = h.start("crash me");
    runWithCrashes(h);
    assertThat(h.runs.answer("acme", id, JsonValue.of("go"), "bob")).isPresent();
    runWithCrashes(h);
    RunState s = h.state(id);
    assertThat(crashes.get()).as("the crash point was reached").isPositive();
    assertThat(s.status()).isEqualTo(RunStatus.COMPLETED);
    // the read may run again after a crash between its intent and its result, never more
    assertThat(h.effects.values()).hasSize(1).allMatch(n -> n.get() <= 2);
    List<RunEvent> ev = events(h, id);
    assertThat(ev).filteredOn(RunEvent.RunCompleted.class::isInstance).hasSize(1);
    assertThat(ev).filteredOn(RunEvent.OutputRecorded.class::isInstance).hasSize(1);
    assertThat(ev)
        .filteredOn(e -> e instanceof RunEvent.ApprovalRequested a && a.kind().equals("question"))
        .hasSize(1);
    assertThat(ev)
        .filteredOn(e -> e instanceof RunEvent.PlanUpdated p && p.by().equals("agent"))
        .hasSize(1);
    assertThat(s.loop().reflections()).isEqualTo(1);
    assertThat(s.loop().repairs()).isEqualTo(1);
    assertThat(InvariantChecker.check(h.store)).isEmpty();
  }

  private static void runWithCrashes(Harness h) throws InterruptedException {
    for (int guard = 0; guard < 200; guard++) {
      List<Lease> leases = h.store.claim("w1", h.engine.config().leaseTime(), 100);
      if (leases.isEmpty()) {
        // a crashed worker's lease lapses; time moves on so another claim can take the run
        h.clock.advance(Duration.ofSeconds(11));
        if (h.store.claim("w2", h.engine.config().leaseTime(), 100).isEmpty()) {
          return;
        }
        h.clock.advance(Duration.ofSeconds(11));
        continue;
      }
      for (Lease l : leases) {
        try {
          RunExecution.load(h.engine, l, h.engine.ticker().getAsLong()).run();
        } catch (LeaseLostException | Crash ignored) {
          // the worker died here; its lease lapses
        }
      }
    }
    throw new AssertionError("runs did not settle");
  }
}
