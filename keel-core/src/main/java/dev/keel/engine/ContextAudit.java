package dev.keel.engine;

import dev.keel.agent.AgentSpec;
import dev.keel.agent.ContextAssembler;
import dev.keel.agent.ContextPack;
import dev.keel.agent.MessageMemo;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.ModelRequest;
import dev.keel.run.EventEnvelope;
import dev.keel.run.RunEvent;
import dev.keel.run.RunState;
import dev.keel.tool.Tool;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The context pack of each model step, as the engine builds it and as an auditor rebuilds it from
 * the log. A step's pack depends only on the run's state just before its {@code model.responded},
 * the pinned agent version, the run's tools and the model's limits, so folding the log to that
 * point and assembling again must give the references recorded in its {@code decision.recorded}.
 */
public final class ContextAudit {
  private ContextAudit() {}

  /** The pack of the step {@code s} is at, as {@link RunExecution} sends it. */
  static ContextPack pack(Engine e, RunState s, AgentSpec agent, ToolScope.Bound bound) {
    return pack(e, s, agent, bound, new MessageMemo());
  }

  /** {@link #pack(Engine, RunState, AgentSpec, ToolScope.Bound)} reusing a run's message memo. */
  static ContextPack pack(
      Engine e, RunState s, AgentSpec agent, ToolScope.Bound bound, MessageMemo memo) {
    return ContextAssembler.assemble(
        s, agent, toolSchemas(agent, bound), e.model().limits(agent.model()), memo);
  }

  static List<ModelRequest.ToolSchema> toolSchemas(AgentSpec agent, ToolScope.Bound bound) {
    List<ModelRequest.ToolSchema> out = new ArrayList<>(Decision.pseudoTools(agent));
    for (String name : agent.tools()) {
      bound
          .tools()
          .find(name)
          .map(Tool::spec)
          .ifPresent(
              s ->
                  out.add(new ModelRequest.ToolSchema(s.name(), s.description(), s.inputSchema())));
    }
    return out;
  }

  /**
   * One step's references as recorded and as rebuilt.
   *
   * @param step the model step
   * @param recorded the {@code context} of its {@code decision.recorded}
   * @param replayed the references assembled again from the log
   */
  public record Step(int step, JsonObject recorded, JsonObject replayed) {
    /** Whether the rebuilt pack is the one that was sent (same parts, window and tokens). */
    public boolean matches() {
      return strip(recorded).equals(strip(replayed));
    }

    private static JsonObject strip(JsonObject refs) {
      java.util.Map<String, JsonValue> m = new java.util.LinkedHashMap<>(refs.members());
      m.remove("messages");
      m.remove("chain");
      return new JsonObject(m);
    }
  }

  /**
   * Rebuilds the context pack of every model step of a run from its whole log and pairs it with
   * what was recorded.
   */
  public static List<Step> replay(Engine e, List<EventEnvelope> log) {
    List<Step> out = new ArrayList<>();
    RunState s = RunState.fold(log.subList(0, 1));
    AgentSpec agent = e.agentOf(s);
    ToolScope.Bound bound = e.toolScope().forRun(s);
    Optional<JsonObject> pendingRefs = Optional.empty();
    int pendingStep = 0;
    MessageMemo memo = new MessageMemo();
    for (EventEnvelope env : log.subList(1, log.size())) {
      if (env.event() instanceof RunEvent.ModelResponded r) {
        pendingRefs = Optional.of(pack(e, s, agent, bound, memo).refs());
        pendingStep = r.step();
      }
      if (env.event() instanceof RunEvent.DecisionRecorded d
          && pendingRefs.isPresent()
          && d.step() == pendingStep
          && d.summary().get("context").orElse(null) instanceof JsonObject recorded
          && recorded.get("pack").isPresent()) {
        out.add(new Step(d.step(), recorded, pendingRefs.get()));
        pendingRefs = Optional.empty();
      }
      s = s.apply(env);
    }
    return out;
  }
}
