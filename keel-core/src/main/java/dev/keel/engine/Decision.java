package dev.keel.engine;

import dev.keel.agent.AgentSpec;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonArray;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.model.ToolCallRequest;
import dev.keel.run.Plan;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the agent decided in one model answer. An answer is read into one or more decisions: plain
 * text is {@link Respond}; each tool call is a {@link CallTool}; calls of the loop's pseudo-tools
 * ({@code keel.update_plan}, {@code keel.ask_person}, {@code keel.finish}, {@code keel.fail}) are
 * the other kinds. The reading is a pure function of the answer and the agent, so a run rebuilt
 * from its events reads the same decisions (see docs/decisions/0020-decisions-as-pseudo-tools.md).
 */
public sealed interface Decision {

  /** The pseudo-tool that updates the plan. */
  String UPDATE_PLAN = "keel.update_plan";

  /** The pseudo-tool that asks a person. */
  String ASK_PERSON = "keel.ask_person";

  /** The pseudo-tool that finishes with an output. */
  String FINISH = "keel.finish";

  /** The pseudo-tool that fails the run with a reason. */
  String FAIL = "keel.fail";

  /** The pseudo-tool that reports candidates; a person chooses when none is clearly best. */
  String CHOOSE = "keel.choose";

  /** The pseudo-tool that starts a sub-agent run and waits for it. */
  String SPAWN = dev.keel.run.RunState.SPAWN_TOOL;

  /** The decision's kind, as recorded in {@code decision.recorded}. */
  String kind();

  /** Answer with text and no calls: the answer is the run's output (after its checks). */
  record Respond(String text) implements Decision {
    @Override
    public String kind() {
      return "respond";
    }
  }

  /** Call a tool; several in one answer run as one step. */
  record CallTool(int index, ToolCallRequest call) implements Decision {
    @Override
    public String kind() {
      return "call_tools";
    }
  }

  /** Ask a person a question, optionally with choices; the run waits durably for the answer. */
  record AskPerson(int index, String question, List<String> choices) implements Decision {
    /** Copies the choices. */
    public AskPerson {
      choices = List.copyOf(choices);
    }

    @Override
    public String kind() {
      return "ask_person";
    }
  }

  /** Replace the plan with {@code steps}. */
  record UpdatePlan(int index, List<Plan.Step> steps) implements Decision {
    /** Copies the steps. */
    public UpdatePlan {
      steps = List.copyOf(steps);
    }

    @Override
    public String kind() {
      return "update_plan";
    }
  }

  /** Finish with a text and structured data. */
  record Finish(int index, String text, JsonObject data) implements Decision {
    @Override
    public String kind() {
      return "finish";
    }
  }

  /** Fail the run with a reason. */
  record Fail(int index, String reason) implements Decision {
    @Override
    public String kind() {
      return "fail";
    }
  }

  /**
   * Start a run of {@code agent} for {@code goal} and wait for it; {@code budget} may ask for less
   * than the parent's remaining budget (never more).
   */
  record Spawn(int index, String agent, String goal, JsonObject budget) implements Decision {
    @Override
    public String kind() {
      return "spawn";
    }
  }

  /** Candidates reported with exactly one confident enough: it is chosen without a person. */
  record Choose(int index, JsonObject arguments, JsonValue value, String confidence)
      implements Decision {
    @Override
    public String kind() {
      return "choose";
    }
  }

  /**
   * Candidates reported with not exactly one confident enough: a person chooses among {@code
   * choices} instead of the agent guessing.
   */
  record Ambiguous(int index, JsonObject arguments, String question, List<String> choices)
      implements Decision {
    /** Copies the choices. */
    public Ambiguous {
      choices = List.copyOf(choices);
    }

    @Override
    public String kind() {
      return "ambiguity";
    }
  }

  /** A pseudo-tool call that cannot be honoured; the model gets {@code reason} as its error. */
  record Invalid(int index, ToolCallRequest call, String reason) implements Decision {
    @Override
    public String kind() {
      return "invalid";
    }
  }

  /** Reads the decisions of {@code response} for {@code agent}. */
  static List<Decision> read(ModelResponse response, AgentSpec agent) {
    List<ToolCallRequest> calls = response.toolCalls();
    if (calls.isEmpty()) {
      return List.of(new Respond(response.text()));
    }
    List<Decision> out = new ArrayList<>();
    for (int i = 0; i < calls.size(); i++) {
      out.add(one(i, calls.get(i), agent));
    }
    boolean ends = out.stream().anyMatch(d -> d instanceof Finish || d instanceof Fail);
    long others = out.stream().filter(d -> !(d instanceof UpdatePlan)).count();
    if (ends && others > 1) {
      List<Decision> fixed = new ArrayList<>();
      for (Decision d : out) {
        fixed.add(
            switch (d) {
              case Finish f ->
                  new Invalid(
                      f.index(),
                      calls.get(f.index()),
                      FINISH + " must be the only call of its answer besides " + UPDATE_PLAN);
              case Fail f ->
                  new Invalid(
                      f.index(),
                      calls.get(f.index()),
                      FAIL + " must be the only call of its answer besides " + UPDATE_PLAN);
              default -> d;
            });
      }
      return fixed;
    }
    return out;
  }

  private static Decision one(int i, ToolCallRequest call, AgentSpec agent) {
    JsonObject a = call.arguments();
    try {
      return switch (call.name()) {
        case UPDATE_PLAN -> {
          if (!agent.can("plan")) {
            yield new CallTool(i, call);
          }
          yield new UpdatePlan(i, Plan.readSteps(a));
        }
        case ASK_PERSON -> {
          if (!agent.can("ask_person")) {
            yield new CallTool(i, call);
          }
          String q =
              a.string("question")
                  .filter(t -> !t.isBlank())
                  .orElseThrow(() -> new IllegalArgumentException("question: required"));
          List<String> choices = new ArrayList<>();
          if (a.get("choices").orElse(null) instanceof JsonArray arr) {
            for (JsonValue v : arr.items()) {
              if (!(v instanceof JsonValue.JsonString s)) {
                throw new IllegalArgumentException("choices: must be strings");
              }
              choices.add(s.value());
            }
          }
          yield new AskPerson(i, q, choices);
        }
        case FINISH -> {
          if (!agent.can("finish")) {
            yield new CallTool(i, call);
          }
          Optional<JsonValue> data = a.get("data");
          if (data.isPresent() && !(data.get() instanceof JsonObject)) {
            throw new IllegalArgumentException("data: must be an object");
          }
          yield new Finish(
              i,
              a.string("text").orElse(""),
              data.map(JsonObject.class::cast).orElse(JsonValue.EMPTY_OBJECT));
        }
        case SPAWN -> {
          if (!agent.can("spawn")) {
            yield new CallTool(i, call);
          }
          String child =
              a.string("agent")
                  .filter(t -> !t.isBlank())
                  .orElseThrow(() -> new IllegalArgumentException("agent: required"));
          String goal =
              a.string("goal")
                  .filter(t -> !t.isBlank())
                  .orElseThrow(() -> new IllegalArgumentException("goal: required"));
          Optional<JsonValue> budget = a.get("budget");
          if (budget.isPresent() && !(budget.get() instanceof JsonObject)) {
            throw new IllegalArgumentException("budget: must be an object");
          }
          yield new Spawn(
              i, child, goal, budget.map(JsonObject.class::cast).orElse(JsonValue.EMPTY_OBJECT));
        }
        case CHOOSE -> {
          if (agent.ambiguityThreshold() <= 0) {
            yield new CallTool(i, call);
          }
          List<dev.keel.agent.Ambiguity.Candidate> candidates =
              dev.keel.agent.Ambiguity.read(
                  a.get("candidates")
                      .orElseThrow(() -> new IllegalArgumentException("candidates: required")));
          if (candidates.size() < 2) {
            throw new IllegalArgumentException("candidates: report at least two");
          }
          String question = a.string("question").filter(q -> !q.isBlank()).orElse("Which one?");
          Optional<dev.keel.agent.Ambiguity.Candidate> sole =
              dev.keel.agent.Ambiguity.sole(candidates, agent.ambiguityThreshold());
          if (sole.isPresent()) {
            yield new Choose(i, a, sole.get().value(), sole.get().confidence().toPlainString());
          }
          yield new Ambiguous(i, a, question, dev.keel.agent.Ambiguity.choices(candidates));
        }
        case FAIL -> {
          if (!agent.can("finish")) {
            yield new CallTool(i, call);
          }
          yield new Fail(i, a.string("reason").filter(r -> !r.isBlank()).orElse("no reason given"));
        }
        default -> new CallTool(i, call);
      };
    } catch (IllegalArgumentException x) {
      return new Invalid(i, call, "invalid arguments to " + call.name() + ": " + x.getMessage());
    }
  }

  /** The action recorded for {@code decisions}: their distinct kinds joined by {@code +}. */
  static String action(List<Decision> decisions) {
    return String.join("+", decisions.stream().map(Decision::kind).distinct().toList());
  }

  /** The schemas of the pseudo-tools {@code agent} may call. */
  static List<ModelRequest.ToolSchema> pseudoTools(AgentSpec agent) {
    List<ModelRequest.ToolSchema> out = new ArrayList<>();
    if (agent.can("plan")) {
      out.add(
          new ModelRequest.ToolSchema(
              UPDATE_PLAN,
              "Set your plan: the steps you will take, each with a status and the tool it uses."
                  + " A person may edit it; the current plan is shown to you every step.",
              JsonValue.object(
                  "type",
                  "object",
                  "required",
                  List.of("steps"),
                  "properties",
                  JsonValue.object(
                      "steps",
                      JsonValue.object(
                          "type",
                          "array",
                          "items",
                          JsonValue.object(
                              "type",
                              "object",
                              "required",
                              List.of("id", "title", "status"),
                              "properties",
                              JsonValue.object(
                                  "id", JsonValue.object("type", "string"),
                                  "title", JsonValue.object("type", "string"),
                                  "status",
                                      JsonValue.object(
                                          "type",
                                          "string",
                                          "enum",
                                          List.of(
                                              "pending",
                                              "in_progress",
                                              "done",
                                              "skipped",
                                              "failed")),
                                  "tool", JsonValue.object("type", "string"))))))));
    }
    if (agent.can("ask_person")) {
      out.add(
          new ModelRequest.ToolSchema(
              ASK_PERSON,
              "Ask a person a question when you cannot decide safely; offer choices when there"
                  + " are several valid candidates. The answer comes back as this call's result.",
              JsonValue.object(
                  "type",
                  "object",
                  "required",
                  List.of("question"),
                  "properties",
                  JsonValue.object(
                      "question", JsonValue.object("type", "string"),
                      "choices",
                          JsonValue.object(
                              "type", "array", "items", JsonValue.object("type", "string"))))));
    }
    if (agent.ambiguityThreshold() > 0) {
      out.add(
          new ModelRequest.ToolSchema(
              CHOOSE,
              "When several candidates could be meant (orders, accounts, people), report them"
                  + " with your confidence in each instead of guessing. If exactly one reaches the"
                  + " confidence threshold it is chosen; otherwise a person chooses. The choice"
                  + " comes back as this call's result.",
              JsonValue.object(
                  "type",
                  "object",
                  "required",
                  List.of("candidates"),
                  "properties",
                  JsonValue.object(
                      "question", JsonValue.object("type", "string"),
                      "candidates",
                          JsonValue.object(
                              "type",
                              "array",
                              "minItems",
                              2L,
                              "items",
                              JsonValue.object(
                                  "type",
                                  "object",
                                  "required",
                                  List.of("value", "confidence"),
                                  "properties",
                                  JsonValue.object(
                                      "value", JsonValue.object(),
                                      "confidence",
                                          JsonValue.object(
                                              "type", "number", "minimum", 0L, "maximum", 1L),
                                      "label", JsonValue.object("type", "string"))))))));
    }
    if (agent.can("spawn")) {
      out.add(
          new ModelRequest.ToolSchema(
              SPAWN,
              "Delegate a sub-task to another agent (whose tools are a subset of yours). It runs as"
                  + " a child run with a slice of your remaining budget; you get its output, or"
                  + " its failure, as this call's result.",
              JsonValue.object(
                  "type",
                  "object",
                  "required",
                  List.of("agent", "goal"),
                  "properties",
                  JsonValue.object(
                      "agent", JsonValue.object("type", "string"),
                      "goal", JsonValue.object("type", "string"),
                      "budget",
                          JsonValue.object(
                              "type",
                              "object",
                              "properties",
                              JsonValue.object(
                                  "max_steps", JsonValue.object("type", "integer"),
                                  "max_model_calls", JsonValue.object("type", "integer"),
                                  "max_tool_calls", JsonValue.object("type", "integer"),
                                  "max_cost_usd", JsonValue.object("type", "number")))))));
    }
    if (agent.can("finish")) {
      out.add(
          new ModelRequest.ToolSchema(
              FINISH,
              "Finish with your final answer: text for the person and, if the agent declares an"
                  + " output schema, data that satisfies it.",
              agent
                  .outputSchema()
                  .map(
                      s ->
                          JsonValue.object(
                              "type",
                              "object",
                              "required",
                              List.of("text", "data"),
                              "properties",
                              JsonValue.object(
                                  "text", JsonValue.object("type", "string"), "data", s)))
                  .orElse(
                      JsonValue.object(
                          "type",
                          "object",
                          "required",
                          List.of("text"),
                          "properties",
                          JsonValue.object(
                              "text", JsonValue.object("type", "string"),
                              "data", JsonValue.object("type", "object"))))));
      out.add(
          new ModelRequest.ToolSchema(
              FAIL,
              "Give up with a reason when the task cannot be done.",
              JsonValue.object(
                  "type",
                  "object",
                  "required",
                  List.of("reason"),
                  "properties",
                  JsonValue.object("reason", JsonValue.object("type", "string")))));
    }
    return out;
  }
}
