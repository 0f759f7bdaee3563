package dev.keel.testkit;

import dev.keel.json.JsonValue;
import dev.keel.model.Message;
import dev.keel.model.ToolCallRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * A scripted agent whose plan is its goal: {@code plan:a+b,c} calls tools {@code a} and {@code b}
 * in parallel in step 1, {@code c} in step 2, then answers {@code finished plan:a+b,c}. Tool names
 * are taken as written (with a prefix added, such as {@code sim.}). The same goal always gives the
 * same replies, whichever worker asks.
 */
public final class PlanScript {
  private PlanScript() {}

  /**
   * A script reading its plan from the first user message; tools are named {@code prefix + name}.
   */
  public static ScriptedModel.Script withPrefix(String prefix) {
    return (request, step) -> {
      String goal =
          request.messages().stream()
              .filter(Message.User.class::isInstance)
              .map(m -> ((Message.User) m).text())
              .filter(t -> t.startsWith("plan:"))
              .findFirst()
              .orElse("plan:");
      String[] steps = goal.substring(5).isEmpty() ? new String[0] : goal.substring(5).split(",");
      if (step > steps.length) {
        return ScriptedModel.text("finished " + goal);
      }
      List<ToolCallRequest> calls = new ArrayList<>();
      String[] parallel = steps[step - 1].split("\\+");
      for (int i = 0; i < parallel.length; i++) {
        calls.add(
            new ToolCallRequest(
                "p" + step + "_" + i,
                prefix + parallel[i],
                JsonValue.object("step", (long) step, "n", (long) i)));
      }
      return ScriptedModel.calls(calls.toArray(ToolCallRequest[]::new));
    };
  }

  /** The answer a run of {@code goal} ends with. */
  public static String answer(String goal) {
    return "finished " + goal;
  }
}
