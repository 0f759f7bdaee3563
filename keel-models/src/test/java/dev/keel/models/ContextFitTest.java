package dev.keel.models;

import static dev.keel.testkit.ScriptedModel.call;
import static dev.keel.testkit.ScriptedModel.calls;
import static dev.keel.testkit.ScriptedModel.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.engine.ContextAudit;
import dev.keel.engine.Engine;
import dev.keel.engine.EngineConfig;
import dev.keel.engine.IdSource;
import dev.keel.engine.RunExecution;
import dev.keel.engine.Runs;
import dev.keel.json.JsonValue;
import dev.keel.model.Message;
import dev.keel.model.ModelLimits;
import dev.keel.model.ModelProvider;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.model.Pricing;
import dev.keel.model.Tokenizer;
import dev.keel.model.ToolCallRequest;
import dev.keel.models.gateway.GatewayConfig;
import dev.keel.models.gateway.ModelGateway;
import dev.keel.run.Budget;
import dev.keel.run.EventEnvelope;
import dev.keel.run.FaultInjector;
import dev.keel.run.RunEvent;
import dev.keel.run.RunId;
import dev.keel.run.RunState;
import dev.keel.run.RunStatus;
import dev.keel.store.Lease;
import dev.keel.testkit.InMemoryRunStore;
import dev.keel.tool.Idempotency;
import dev.keel.tool.Tool;
import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolRegistry;
import dev.keel.tool.ToolResult;
import dev.keel.tool.ToolSpec;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Context assembly with real tokenizers: a long run is fitted to a small window with {@code
 * o200k_base}, older history is trimmed without ever separating a call from its result, and the
 * recorded references are reproduced by replaying the log.
 */
class ContextFitTest {
  private static final String FILLER =
      "The warehouse in Rotterdam reported that pallet 4471 was delayed by customs inspection. ";

  private final List<ModelRequest> requests = new CopyOnWriteArrayList<>();

  /**
   * A model that reports {@code limits} and answers by the step the context pack names (the
   * scripted model's own step count, its assistant messages, shrinks when history is trimmed).
   */
  private ModelProvider model(ModelLimits limits, int toolSteps) {
    java.util.regex.Pattern stepOf = java.util.regex.Pattern.compile("Run state: step (\\d+) ");
    return new ModelProvider() {
      @Override
      public String name() {
        return "scripted";
      }

      @Override
      public ModelResponse complete(ModelRequest req) {
        requests.add(req);
        java.util.regex.Matcher m =
            stepOf.matcher(((Message.System) req.messages().getFirst()).text());
        assertThat(m.find()).isTrue();
        int step = Integer.parseInt(m.group(1));
        if (step > toolSteps) {
          return text("done after " + toolSteps + " steps");
        }
        return calls(
            call("a" + step, "kb.search", JsonValue.object("q", "pallet " + step)),
            call("b" + step, "kb.search", JsonValue.object("q", "customs " + step)));
      }

      @Override
      public ModelLimits limits(String m) {
        return limits;
      }
    };
  }

  private static Tool search() {
    ToolSpec spec =
        ToolSpec.builder("kb.search").riskLevel(0).idempotency(Idempotency.NATURAL).build();
    return new Tool() {
      @Override
      public ToolSpec spec() {
        return spec;
      }

      @Override
      public ToolResult invoke(dev.keel.tool.ToolInvocation inv) {
        return new ToolResult.Success(
            JsonValue.object(
                "q", inv.arguments().string("q").orElse(""), "hits", FILLER.repeat(4)));
      }
    };
  }

  private Engine engine(InMemoryRunStore store, ModelProvider model) {
    AgentSpec agent =
        AgentSpec.builder("reader")
            .instructions("You research shipping delays.", "1")
            .model("gpt-4o")
            .tools(List.of("kb.search"))
            .budget(new Budget(40, 40, 80, 1_000_000, Duration.ofHours(1)))
            .maxOutputTokens(300)
            .build();
    return Engine.of(
        store,
        AgentCatalog.of(List.of(agent)),
        model,
        m -> Pricing.FREE,
        new ToolRegistry(List.of(search())),
        ToolPolicy.byRiskLevel(),
        InstantSource.system(),
        IdSource.seeded(3),
        FaultInjector.NONE,
        EngineConfig.DEFAULT.withLeaseTime(Duration.ofSeconds(30)));
  }

  private static void runAll(Engine e, InMemoryRunStore store) throws InterruptedException {
    for (int guard = 0; guard < 200; guard++) {
      List<Lease> leases = store.claim("w", Duration.ofSeconds(30), 10);
      if (leases.isEmpty()) {
        return;
      }
      for (Lease l : leases) {
        RunExecution.load(e, l, System.nanoTime()).run();
      }
    }
  }

  @Test
  void aLongRunIsTrimmedToTheWindowAndNeverSplitsACallFromItsResult() throws Exception {
    Tokenizer o200k = FamilyTokenizers.forModel("gpt-4o");
    ModelLimits limits = new ModelLimits(2_500, o200k);
    InMemoryRunStore store = new InMemoryRunStore(InstantSource.system());
    Engine e = engine(store, model(limits, 12));
    RunId id =
        new Runs(e)
            .create(
                Runs.Request.of(
                    "acme", "reader", JsonValue.object("goal", "Why is pallet 4471 late?")))
            .runId();
    runAll(e, store);
    RunState s = new Runs(e).state(id);
    assertThat(s.status()).as(s.error().toString()).isEqualTo(RunStatus.COMPLETED);
    assertThat(requests).hasSize(13);
    // the whole conversation is far larger than the window; each request is not
    int whole = 0;
    for (Message m : s.messages()) {
      whole += o200k.count(m.toString());
    }
    assertThat(whole).isGreaterThan(limits.contextWindow());

    for (ModelRequest r : requests) {
      List<Message> ms = r.messages();
      assertThat(ms.get(1)).isEqualTo(new Message.User("Why is pallet 4471 late?"));
      int text = 0;
      for (Message m : ms) {
        text +=
            switch (m) {
              case Message.System x -> o200k.count(x.text());
              case Message.User x -> o200k.count(x.text());
              case Message.Assistant x -> o200k.count(x.text());
              case Message.ToolResult x -> o200k.count(x.content().toString());
            };
      }
      assertThat(text).isLessThanOrEqualTo(limits.contextWindow() - 300);
      assertPaired(ms);
    }
    List<JsonValue.JsonObject> contexts = new ArrayList<>();
    for (EventEnvelope env : store.events(id, 0, 10_000)) {
      if (env.event() instanceof RunEvent.DecisionRecorded d
          && d.summary().get("context").orElse(null) instanceof JsonValue.JsonObject c) {
        contexts.add(c);
      }
    }
    assertThat(contexts).hasSize(13);
    assertThat(contexts).allSatisfy(c -> assertThat(c.string("tokenizer")).contains("o200k_base"));
    JsonValue.JsonObject last = contexts.getLast();
    long omitted =
        ((JsonValue.JsonNumber)
                ((JsonValue.JsonObject) last.get("history").orElseThrow())
                    .get("omitted")
                    .orElseThrow())
            .value()
            .longValue();
    assertThat(omitted).isPositive();
    assertThat(((Message.System) requests.getLast().messages().getFirst()).text())
        .contains(omitted + " earlier messages of this conversation were omitted");
    // the first requests had room for everything
    assertThat(((Message.System) requests.getFirst().messages().getFirst()).text())
        .doesNotContain("omitted");

    // replay: folding the log to each step and assembling again gives the recorded references
    List<ContextAudit.Step> replayed = ContextAudit.replay(e, store.events(id, 0, 10_000));
    assertThat(replayed).hasSize(13).allMatch(ContextAudit.Step::matches);
  }

  /** Every assistant call is followed by its result, and every result follows its call. */
  static void assertPaired(List<Message> ms) {
    for (int i = 0; i < ms.size(); i++) {
      if (ms.get(i) instanceof Message.Assistant a && !a.toolCalls().isEmpty()) {
        Set<String> ids = new HashSet<>();
        for (ToolCallRequest c : a.toolCalls()) {
          ids.add(c.id());
        }
        Set<String> answered = new HashSet<>();
        for (int j = i + 1; j < ms.size() && ms.get(j) instanceof Message.ToolResult r; j++) {
          answered.add(r.callId());
        }
        assertThat(answered).as("results right after call at " + i).isEqualTo(ids);
      }
      if (ms.get(i) instanceof Message.ToolResult r) {
        boolean found = false;
        for (int j = i - 1; j >= 0; j--) {
          if (ms.get(j) instanceof Message.Assistant a) {
            found = a.toolCalls().stream().anyMatch(c -> c.id().equals(r.callId()));
            break;
          }
        }
        assertThat(found).as("result " + r.callId() + " has its call before it").isTrue();
      }
    }
  }

  @Test
  void aWindowTooSmallForTheFixedPartsFailsTheRunBeforeTheCall() throws Exception {
    InMemoryRunStore store = new InMemoryRunStore(InstantSource.system());
    Engine e = engine(store, model(new ModelLimits(400, FamilyTokenizers.forModel("gpt-4o")), 1));
    RunId id =
        new Runs(e)
            .create(Runs.Request.of("acme", "reader", JsonValue.object("goal", "x")))
            .runId();
    runAll(e, store);
    RunState s = new Runs(e).state(id);
    assertThat(s.status()).isEqualTo(RunStatus.FAILED);
    assertThat(s.error().orElseThrow().code()).isEqualTo("context_overflow");
    assertThat(s.error().orElseThrow().message()).contains("window of 400").contains("o200k_base");
    assertThat(requests).isEmpty();
  }

  @Test
  void tokenizersPerFamily() {
    assertThat(FamilyTokenizers.forModel("gpt-4o-mini").name()).isEqualTo("o200k_base");
    assertThat(FamilyTokenizers.forModel("o3-mini").name()).isEqualTo("o200k_base");
    assertThat(FamilyTokenizers.forModel("gpt-4-turbo").name()).isEqualTo("cl100k_base");
    assertThat(FamilyTokenizers.forModel("gpt-3.5-turbo").name()).isEqualTo("cl100k_base");
    Tokenizer claude = FamilyTokenizers.forModel("claude-sonnet-4");
    assertThat(claude.name()).isEqualTo("o200k_base+25%");
    String text = FILLER.repeat(10);
    int exact = FamilyTokenizers.forModel("gpt-4o").count(text);
    assertThat(claude.count(text)).isGreaterThanOrEqualTo(exact + exact / 4);
    // cl100k and o200k really differ: two real tables, not one
    assertThat(FamilyTokenizers.forModel("gpt-4").count("नमस्ते दुनिया, यह एक परीक्षण है"))
        .isNotEqualTo(FamilyTokenizers.forModel("gpt-4o").count("नमस्ते दुनिया, यह एक परीक्षण है"));
  }

  @Test
  void theGatewayReportsTheSmallestWindowOfItsTargetsAndTheLargestCount() {
    Map<String, String> c = new HashMap<>();
    c.put("providers.openai.protocol", "openai-chat");
    c.put("providers.openai.base-url", "http://127.0.0.1:9/v1");
    c.put("providers.openai.api-key", "env:KEEL_TEST_NO_SUCH_KEY");
    c.put("providers.local.protocol", "ollama");
    c.put("providers.local.base-url", "http://127.0.0.1:9");
    c.put("models.gpt.provider", "openai");
    c.put("models.gpt.model", "gpt-4o-mini");
    c.put("models.gpt.context-window", "128000");
    c.put("models.llama.provider", "local");
    c.put("models.llama.model", "llama3.2");
    c.put("models.llama.context-window", "8192");
    c.put("models.unused.provider", "local");
    c.put("models.unused.model", "tiny");
    c.put("models.unused.context-window", "1024");
    c.put("prices.version", "1");
    c.put("routes.default.chain", "gpt,llama");
    c.put("routes.default.timeouts", "20s,30s");
    try (ModelGateway gw = GatewayConfig.build(c, Map.of(), InstantSource.system())) {
      ModelLimits l = gw.limits();
      assertThat(l.contextWindow()).isEqualTo(8192);
      assertThat(l.tokenizer().name()).isEqualTo("max(o200k_base,o200k_base+25%)");
      String text = FILLER.repeat(3);
      assertThat(l.tokenizer().count(text))
          .isEqualTo(FamilyTokenizers.forModel("llama3.2").count(text));
    }
  }
}
