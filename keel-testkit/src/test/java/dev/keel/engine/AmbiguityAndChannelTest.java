package dev.keel.engine;

import static dev.keel.testkit.ScriptedModel.call;
import static dev.keel.testkit.ScriptedModel.calls;
import static dev.keel.testkit.ScriptedModel.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.agent.AgentSpec;
import dev.keel.agent.ResponseProfile;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.Message;
import dev.keel.model.ModelRequest;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.run.RunStatus;
import dev.keel.store.ApprovalRecord;
import dev.keel.testkit.InvariantChecker;
import dev.keel.testkit.ScriptedModel;
import dev.keel.tool.Idempotency;
import dev.keel.tool.Tool;
import dev.keel.tool.ToolResult;
import dev.keel.tool.ToolSpec;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Ambiguity routing and per-channel response profiles on the scripted model. */
class AmbiguityAndChannelTest {
  private final List<ModelRequest> requests = new CopyOnWriteArrayList<>();

  private static AgentSpec.Builder agent() {
    return AgentSpec.builder("shop")
        .instructions("You help customers.", "1")
        .tools(List.of("shop.lookup", "shop.find"))
        .budget(EngineTest.BUDGET)
        .maxOutputTokens(256)
        .capabilities(Set.of("ask_person", "finish"));
  }

  /** A tool that finds orders matching a description, each with a confidence. */
  private static Tool find(double first, double second) {
    ToolSpec spec =
        ToolSpec.builder("shop.find").riskLevel(0).idempotency(Idempotency.NATURAL).build();
    return new Tool() {
      @Override
      public ToolSpec spec() {
        return spec;
      }

      @Override
      public ToolResult invoke(dev.keel.tool.ToolInvocation inv) {
        return new ToolResult.Success(
            JsonValue.object(
                "candidates",
                List.of(
                    JsonValue.object("value", "A-1", "confidence", first, "label", "A-1 (shoes)"),
                    JsonValue.object(
                        "value", "B-2", "confidence", second, "label", "B-2 (boots)"))));
      }
    };
  }

  private Harness harness(AgentSpec agent, ScriptedModel.Script script, Tool... extra) {
    return new Harness(
        ScriptedModel.of(
            (req, step) -> {
              requests.add(req);
              return script.reply(req, step);
            }),
        List.of(agent),
        EngineTest.BUDGET,
        FaultInjector.NONE,
        new Harness.InMemoryRunStoreFactory(),
        List.of(extra));
  }

  private static List<RunEvent> events(Harness h, RunId id) {
    return h.store.events(id, 0, 10_000).stream().map(EventEnvelope::event).toList();
  }

  private static List<String> actions(Harness h, RunId id) {
    return events(h, id).stream()
        .filter(e -> e instanceof RunEvent.DecisionRecorded d && d.step() > 0)
        .map(e -> ((RunEvent.DecisionRecorded) e).action())
        .toList();
  }

  private static String lastResult(ModelRequest req) {
    return req.messages().getLast() instanceof Message.ToolResult r ? r.content().toString() : "";
  }

  private static JsonObject candidates(double a, double b) {
    return JsonValue.object(
        "question",
        "Which order do you mean?",
        "candidates",
        List.of(
            JsonValue.object("value", "A-1", "confidence", a),
            JsonValue.object("value", "B-2", "confidence", b)));
  }

  // ---- ambiguity reported by the model ----

  @Test
  void theModelReportsCandidatesBelowTheThresholdAndAPersonChooses() throws Exception {
    Harness h =
        harness(
            agent().ambiguityThreshold(0.8).build(),
            (req, step) ->
                step == 1
                    ? calls(call("c", Decision.CHOOSE, candidates(0.55, 0.5)))
                    : text("Refunding " + lastResult(req)));
    RunId id = h.start("refund my last order");
    h.runUntilIdle();
    assertThat(requests.getFirst().tools())
        .extracting(ModelRequest.ToolSchema::name)
        .contains(Decision.CHOOSE);
    assertThat(((Message.System) requests.getFirst().messages().getFirst()).text())
        .contains("not at least 0.8 confident in exactly one, do not guess");
    assertThat(h.state(id).status()).isEqualTo(RunStatus.WAITING);
    ApprovalRecord q = h.store.approvals("acme", Optional.of("pending"), 10).getFirst();
    assertThat(q.kind()).isEqualTo("question");
    assertThat(q.reason()).isEqualTo("Which order do you mean?");
    assertThat(q.arguments().get("choices").orElseThrow())
        .isEqualTo(JsonValue.from(List.of("A-1", "B-2")));
    assertThat(requests).hasSize(1);

    h.runs.answer("acme", id, JsonValue.of("B-2"), "bob");
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(s.output().orElseThrow().string("text").orElseThrow())
        .contains("\"answer\":\"B-2\"");
    assertThat(actions(h, id)).containsExactly("ambiguity", "respond");
    assertThat(InvariantChecker.check(h.store)).isEmpty();
  }

  @Test
  void oneCandidateAtTheThresholdIsChosenWithoutAPerson() throws Exception {
    Harness h =
        harness(
            agent().ambiguityThreshold(0.8).build(),
            (req, step) ->
                step == 1
                    ? calls(call("c", Decision.CHOOSE, candidates(0.8, 0.3)))
                    : text("Refunding " + lastResult(req)));
    RunId id = h.start("refund my last order");
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(s.output().orElseThrow().string("text").orElseThrow())
        .contains("\"chosen\":\"A-1\"")
        .contains("\"chosen_by\":\"agent\"");
    assertThat(h.store.approvals("acme", Optional.empty(), 10)).isEmpty();
    assertThat(actions(h, id)).containsExactly("choose", "respond");
    assertThat(events(h, id)).anyMatch(RunEvent.CandidateChosen.class::isInstance);
  }

  @Test
  void twoConfidentCandidatesAreAmbiguousToo() throws Exception {
    Harness h =
        harness(
            agent().ambiguityThreshold(0.7).build(),
            (req, step) ->
                step == 1 ? calls(call("c", Decision.CHOOSE, candidates(0.9, 0.85))) : text("ok"));
    RunId id = h.start("x");
    h.runUntilIdle();
    assertThat(h.state(id).status()).isEqualTo(RunStatus.WAITING);
  }

  @Test
  void withoutAThresholdKeelChooseIsNotOffered() throws Exception {
    Harness h =
        harness(
            agent().build(),
            (req, step) ->
                step == 1 ? calls(call("c", Decision.CHOOSE, candidates(0.1, 0.1))) : text("ok"));
    RunId id = h.start("x");
    h.runUntilIdle();
    assertThat(requests.getFirst().tools())
        .extracting(ModelRequest.ToolSchema::name)
        .doesNotContain(Decision.CHOOSE);
    assertThat(lastResult(requests.get(1))).contains("is not allowed for agent shop");
    assertThat(h.state(id).status()).isEqualTo(RunStatus.COMPLETED);
  }

  // ---- ambiguity reported by a tool ----

  @Test
  void aToolReportingCandidatesBelowTheThresholdMakesTheRunAskAndTheAnswerResumesIt()
      throws Exception {
    Harness h =
        harness(
            agent().ambiguityThreshold(0.8).build(),
            (req, step) ->
                step == 1
                    ? calls(call("f", "shop.find", JsonValue.object("q", "my shoes order")))
                    : text("Using " + lastResult(req)),
            find(0.5, 0.45));
    RunId id = h.start("refund my shoes");
    h.runUntilIdle();
    assertThat(h.state(id).status()).isEqualTo(RunStatus.WAITING);
    assertThat(requests).hasSize(1);
    ApprovalRecord q = h.store.approvals("acme", Optional.of("pending"), 10).getFirst();
    assertThat(q.kind()).isEqualTo("question");
    assertThat(q.tool()).isEqualTo("shop.find");
    assertThat(q.reason()).contains("shop.find found 2 candidates").contains("threshold of 0.8");
    assertThat(q.arguments().get("choices").orElseThrow())
        .isEqualTo(JsonValue.from(List.of("A-1 (shoes)", "B-2 (boots)")));

    h.runs.answer("acme", id, JsonValue.of("A-1"), "bob");
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.COMPLETED);
    // the model saw the tool's data and the person's choice in the call's result
    String seen = lastResult(requests.getLast());
    assertThat(seen)
        .contains("\"candidates\"")
        .contains("\"chosen\":\"A-1\"")
        .contains("\"chosen_by\":\"bob\"");
    assertThat(events(h, id)).filteredOn(RunEvent.ToolCallStarted.class::isInstance).hasSize(1);
    assertThat(h.store.approvals("acme", Optional.of("pending"), 10)).isEmpty();
    assertThat(InvariantChecker.check(h.store)).isEmpty();
  }

  @Test
  void aToolWithOneConfidentCandidateDoesNotAsk() throws Exception {
    Harness h =
        harness(
            agent().ambiguityThreshold(0.8).build(),
            (req, step) ->
                step == 1
                    ? calls(call("f", "shop.find", JsonValue.object("q", "shoes")))
                    : text("ok"),
            find(0.95, 0.2));
    RunId id = h.start("x");
    h.runUntilIdle();
    assertThat(h.state(id).status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(h.store.approvals("acme", Optional.empty(), 10)).isEmpty();
  }

  // ---- channels ----

  private static final ResponseProfile VOICE =
      new ResponseProfile(300, "plain", "spoken", 2, Set.of("audio", "text"));
  private static final ResponseProfile WEB = new ResponseProfile(4000, "table", "inline");

  /** Answers as the channel instruction in the context pack asks, after one too-long try. */
  private static ScriptedModel.Script channelAware() {
    return (req, step) -> {
      String system = ((Message.System) req.messages().getFirst()).text();
      if (system.contains("Channel voice")) {
        boolean repairing =
            req.messages().getLast() instanceof Message.User u
                && u.text().contains("response profile");
        return repairing
            ? text("Your order A-1 ships tomorrow. It arrives Friday.")
            : text(
                "Your order A-1 ships tomorrow. It arrives Friday. The courier is DHL and the"
                    + " tracking number is 12345.");
      }
      if (system.contains("Channel web")) {
        return text("| order | ships | arrives |\n|---|---|---|\n| A-1 | tomorrow | Friday |");
      }
      return text("Order A-1 ships tomorrow and arrives Friday; DHL, tracking 12345.");
    };
  }

  private RunId start(Harness h, String channel) {
    return h.runs
        .create(
            Runs.Request.of("acme", "shop", JsonValue.object("goal", "Where is order A-1?"))
                .withChannel(channel))
        .runId();
  }

  @Test
  void theSameAgentAnswersVoiceInTwoSentencesAndWebWithATable() throws Exception {
    Harness h =
        harness(agent().profile("voice", VOICE).profile("web", WEB).build(), channelAware());
    RunId voice = start(h, "voice");
    RunId web = start(h, "web");
    RunId api = start(h, "api");
    h.runUntilIdle();

    RunState v = h.state(voice);
    assertThat(v.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(v.header().channel()).isEqualTo("voice");
    String spoken = v.output().orElseThrow().string("text").orElseThrow();
    assertThat(ResponseProfile.sentences(spoken)).isEqualTo(2);
    assertThat(spoken).hasSizeLessThanOrEqualTo(300);
    List<RunEvent.OutputChecked> checks =
        events(h, voice).stream()
            .filter(RunEvent.OutputChecked.class::isInstance)
            .map(RunEvent.OutputChecked.class::cast)
            .toList();
    assertThat(checks).hasSize(1);
    assertThat(checks.getFirst().check()).isEqualTo("profile");
    assertThat(checks.getFirst().result().toString()).contains("3 sentences; the limit is 2");

    RunState w = h.state(web);
    assertThat(w.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(w.output().orElseThrow().string("text").orElseThrow())
        .contains("|---|---|---|")
        .contains("| A-1 | tomorrow | Friday |");
    assertThat(events(h, web)).noneMatch(RunEvent.OutputChecked.class::isInstance);

    // api has no declared profile: its answer is neither shaped nor checked
    RunState a = h.state(api);
    assertThat(a.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(events(h, api)).noneMatch(RunEvent.OutputChecked.class::isInstance);

    // the voice pack told the model the limits and the approval style
    ModelRequest voiceFirst =
        requests.stream()
            .filter(
                r -> ((Message.System) r.messages().getFirst()).text().contains("Channel voice"))
            .findFirst()
            .orElseThrow();
    assertThat(((Message.System) voiceFirst.messages().getFirst()).text())
        .contains("at most 300 characters and at most 2 sentences")
        .contains("carries audio, text")
        .contains("one short spoken sentence");
    assertThat(InvariantChecker.check(h.store)).isEmpty();
  }

  @Test
  void aShortSentenceOnATableChannelCompletesAndThePackStillAsksForATable() throws Exception {
    Harness h =
        harness(
            agent().profile("web", WEB).maxRepairs(0).build(),
            (req, step) -> text("No, order A-1 has not shipped yet."));
    RunId id = start(h, "web");
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.COMPLETED);
    assertThat(s.output().orElseThrow().string("text"))
        .contains("No, order A-1 has not shipped yet.");
    assertThat(events(h, id)).noneMatch(RunEvent.OutputChecked.class::isInstance);
    assertThat(((Message.System) requests.getLast().messages().getFirst()).text())
        .contains("Channel web")
        .contains("a Markdown table where the content is tabular");
  }

  @Test
  void aVoiceAnswerThatNeverFitsFailsAfterItsRepairs() throws Exception {
    Harness h =
        harness(
            agent().profile("voice", VOICE).maxRepairs(1).build(),
            (req, step) -> text("One. Two. Three."));
    RunId id = start(h, "voice");
    h.runUntilIdle();
    RunState s = h.state(id);
    assertThat(s.status()).isEqualTo(RunStatus.FAILED);
    assertThat(s.error().orElseThrow().code()).isEqualTo("profile_violated");
    assertThat(s.error().orElseThrow().message())
        .contains("voice channel's response profile")
        .contains("3 sentences; the limit is 2");
  }

  @Test
  void sentenceCounting() {
    assertThat(ResponseProfile.sentences("")).isZero();
    assertThat(ResponseProfile.sentences("It costs 1.5 USD. Done")).isEqualTo(2);
    assertThat(ResponseProfile.sentences("Really?! Yes.")).isEqualTo(2);
    // table is an instruction, not a check (0023): an honest short answer is not a violation
    assertThat(WEB.violations("No, order A-1 has not shipped yet.")).isEmpty();
    assertThat(new ResponseProfile(100, "json", "inline").violations("{\"a\": 1}")).isEmpty();
    assertThat(new ResponseProfile(100, "json", "inline").violations("{oops")).hasSize(1);
  }
}
