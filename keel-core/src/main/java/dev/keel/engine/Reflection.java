package dev.keel.engine;

import dev.keel.agent.AgentSpec;
import dev.keel.json.JsonParseException;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.model.Message;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.run.RunState;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Bounded reflection: a draft answer is checked against the agent's acceptance criteria by one
 * model call that answers {@code {passed, issues, next_action}}. An answer that is not that JSON
 * counts as a failed check, so a broken checker cannot wave a draft through.
 */
final class Reflection {
  private Reflection() {}

  /** The structured result of a check. */
  record Result(boolean passed, List<String> issues, String nextAction) {}

  static final JsonObject SCHEMA =
      JsonValue.object(
          "type",
          "object",
          "required",
          List.of("passed", "issues", "next_action"),
          "properties",
          JsonValue.object(
              "passed", JsonValue.object("type", "boolean"),
              "issues",
                  JsonValue.object("type", "array", "items", JsonValue.object("type", "string")),
              "next_action",
                  JsonValue.object("type", "string", "enum", List.of("finish", "revise", "ask"))));

  static ModelRequest request(AgentSpec agent, RunState s, String text, JsonObject data) {
    StringBuilder criteria = new StringBuilder();
    for (String c : agent.acceptanceCriteria()) {
      criteria.append("- ").append(c).append('\n');
    }
    String task = s.header().input().string("goal").orElse(s.header().input().toString());
    return new ModelRequest(
        agent.model(),
        List.of(
            new Message.System(
                "You check a draft answer against acceptance criteria. Reply with only JSON:"
                    + " {\"passed\": true|false, \"issues\": [\"...\"], \"next_action\":"
                    + " \"finish\"|\"revise\"|\"ask\"}."),
            new Message.User(
                "Task: "
                    + task
                    + "\nAcceptance criteria:\n"
                    + criteria
                    + "Draft answer:\n"
                    + text
                    + (data.members().isEmpty() ? "" : "\nDraft data: " + data))),
        List.of(),
        Optional.of(SCHEMA),
        agent.maxOutputTokens());
  }

  static Result read(ModelResponse response) {
    JsonValue v;
    try {
      v = JsonParser.parse(response.text().strip());
    } catch (JsonParseException | IllegalArgumentException x) {
      return new Result(false, List.of("the check's answer was not JSON"), "revise");
    }
    if (!(v instanceof JsonObject o)
        || !(o.get("passed").orElse(null) instanceof JsonValue.JsonBool p)) {
      return new Result(false, List.of("the check's answer had no boolean 'passed'"), "revise");
    }
    List<String> issues = new ArrayList<>();
    if (o.get("issues").orElse(null) instanceof JsonValue.JsonArray a) {
      for (JsonValue i : a.items()) {
        issues.add(i instanceof JsonValue.JsonString str ? str.value() : i.toString());
      }
    }
    String next = o.string("next_action").orElse(p.value() ? "finish" : "revise");
    return new Result(p.value(), issues, next);
  }
}
