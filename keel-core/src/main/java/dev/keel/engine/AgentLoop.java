package dev.keel.engine;

import dev.keel.agent.AgentSpec;
import dev.keel.model.Message;
import dev.keel.model.Pricing;
import dev.keel.run.Budget;
import dev.keel.run.PendingApproval;
import dev.keel.run.RunState;
import dev.keel.run.RunStatus;
import dev.keel.run.ToolCallState;
import dev.keel.run.ToolCallState.Status;
import java.time.Instant;
import java.util.Comparator;
import java.util.Optional;

/**
 * The decision function: from a run's state (and the clock's reading) to what happens next. It does
 * no I/O, so a run rebuilt from its events makes the same decisions (replay).
 *
 * <p>Implementation notes: the order of the checks is the priority of obligations. A recorded
 * output completes before anything else; the wall-clock budget is checked before new work; a call
 * whose intent is recorded without a result is settled before any new call starts; approvals park
 * the run only once every call that can run has run; a model step starts only when every call of
 * the previous step is settled, and only if the budget can pay for its worst case.
 */
final class AgentLoop {
  /**
   * The safety poll of a run that waits for sub-agent runs. A sub-run that ends wakes its parent at
   * once (RunStore.wake, decision 0025); this timer only matters when that wake is lost (the
   * child's process died between its last commit and the wake).
   */
  static final java.time.Duration SUBRUN_POLL = java.time.Duration.ofSeconds(10);

  private AgentLoop() {}

  static Next decide(RunState s, AgentSpec agent, Pricing pricing, Instant now) {
    return decide(s, agent, pricing, now, AgentLoop::messageBytes);
  }

  /**
   * What to do next; {@code messageBytes} measures a message as {@link #messageBytes} does, and may
   * remember the answer (a recorded message never changes).
   */
  static Next decide(
      RunState s,
      AgentSpec agent,
      Pricing pricing,
      Instant now,
      java.util.function.ToLongFunction<Message> messageBytes) {
    if (s.status().terminal()) {
      return new Next.Done();
    }
    if (s.status() == RunStatus.PAUSED) {
      return new Next.Wait("paused", Optional.empty());
    }
    if (s.status() == RunStatus.QUEUED) {
      return new Next.Start();
    }
    if (s.output().isPresent()) {
      return new Next.Complete();
    }
    Budget budget = s.header().budget();
    if (!now.isBefore(s.header().createdAt().plus(budget.maxDuration()))) {
      return new Next.TimeOut(
          "max_duration_s",
          "the run reached its wall-clock limit of " + budget.maxDuration().toSeconds() + " s");
    }
    if (s.finalAnswer().isPresent()) {
      return draft(s, agent, pricing);
    }
    for (ToolCallState c : s.calls()) {
      if (c.status() == Status.STARTED) {
        return new Next.ResumeStarted(c);
      }
    }
    for (ToolCallState c : s.calls()) {
      if (c.status() == Status.READY) {
        if (s.usage().toolCalls() + 1 > budget.maxToolCalls() && c.attempts() == 0) {
          return new Next.TimeOut(
              "max_tool_calls",
              "the run reached its limit of " + budget.maxToolCalls() + " tool calls");
        }
        return new Next.ExecuteTool(c);
      }
    }
    for (ToolCallState c : s.calls()) {
      if (c.status() == Status.UNKNOWN) {
        return new Next.AskAboutUnknown(c);
      }
    }
    if (agent.ambiguityThreshold() > 0) {
      for (ToolCallState c : s.calls()) {
        if (c.status() == Status.SUCCEEDED
            && !c.tool().startsWith("keel.")
            && c.result().isPresent()) {
          Optional<java.util.List<dev.keel.agent.Ambiguity.Candidate>> found =
              dev.keel.agent.Ambiguity.inResult(c.result().get());
          if (found.isPresent()
              && dev.keel.agent.Ambiguity.ambiguous(found.get(), agent.ambiguityThreshold())) {
            return new Next.AskAboutCandidates(c);
          }
        }
      }
    }
    if (!s.pendingSubruns().isEmpty()) {
      Instant poll = now.plus(SUBRUN_POLL);
      Instant deadline = s.header().createdAt().plus(budget.maxDuration());
      return new Next.AwaitSubruns(poll.isBefore(deadline) ? poll : deadline);
    }
    if (!s.approvals().isEmpty()) {
      Instant first =
          s.approvals().stream()
              .map(PendingApproval::expiresAt)
              .min(Comparator.naturalOrder())
              .orElseThrow();
      Instant deadline = s.header().createdAt().plus(budget.maxDuration());
      return first.isAfter(now)
          ? new Next.Wait("approval", Optional.of(first.isBefore(deadline) ? first : deadline))
          : new Next.ExpireApprovals();
    }
    if (s.pendingModel().isPresent()) {
      return new Next.CallModel();
    }
    int step = s.step() + 1;
    if (step > budget.maxSteps()) {
      return new Next.TimeOut(
          "max_steps", "the run reached its limit of " + budget.maxSteps() + " steps");
    }
    if (s.usage().modelCalls() + 1 > budget.maxModelCalls()) {
      return new Next.TimeOut(
          "max_model_calls",
          "the run reached its limit of " + budget.maxModelCalls() + " model calls");
    }
    long reserve =
        pricing.maxCostMicros(inputTokenBound(s, agent, messageBytes), agent.maxOutputTokens());
    if (s.usage().costMicros() + reserve > budget.maxCostMicros()) {
      return new Next.TimeOut(
          "max_cost_usd",
          "the next model call could cost up to "
              + micros(reserve)
              + " USD and only "
              + micros(budget.maxCostMicros() - s.usage().costMicros())
              + " USD of the budget is left");
    }
    return new Next.RequestModel(step, reserve);
  }

  /** What to do with a draft answer: check it (reflection costs a model call) and record it. */
  private static Next draft(RunState s, AgentSpec agent, Pricing pricing) {
    String text = s.finalAnswer().orElseThrow();
    dev.keel.json.JsonValue.JsonObject data =
        s.loop().draftData().orElse(dev.keel.json.JsonValue.EMPTY_OBJECT);
    boolean reflect =
        agent.maxReflections() > 0
            && !agent.acceptanceCriteria().isEmpty()
            && !s.loop().draftReflected()
            && s.loop().reflections() < agent.maxReflections();
    if (!reflect) {
      return new Next.RecordOutput(text, data, 0, 0);
    }
    Budget budget = s.header().budget();
    if (s.usage().modelCalls() + 1 > budget.maxModelCalls()) {
      return new Next.TimeOut(
          "max_model_calls",
          "the reflection check needs a model call and the run reached its limit of "
              + budget.maxModelCalls()
              + " model calls");
    }
    long reserve =
        pricing.maxCostMicros(
            utf8(text) + utf8(data.toString()) + 1024L + 64L * agent.acceptanceCriteria().size(),
            agent.maxOutputTokens());
    if (s.usage().costMicros() + reserve > budget.maxCostMicros()) {
      return new Next.TimeOut(
          "max_cost_usd",
          "the reflection check could cost up to "
              + micros(reserve)
              + " USD and only "
              + micros(budget.maxCostMicros() - s.usage().costMicros())
              + " USD of the budget is left");
    }
    return new Next.RecordOutput(text, data, s.loop().reflections() + 1, reserve);
  }

  /**
   * An upper bound of the input tokens of the next request: its UTF-8 size. No tokenizer makes more
   * tokens than bytes, so the reservation is pessimistic, as G6 asks.
   */
  static long inputTokenBound(RunState s, AgentSpec agent) {
    return inputTokenBound(s, agent, AgentLoop::messageBytes);
  }

  static long inputTokenBound(
      RunState s, AgentSpec agent, java.util.function.ToLongFunction<Message> messageBytes) {
    long bytes = utf8(agent.instructions()) + 16;
    for (Message m : s.messages()) {
      bytes += 16 + messageBytes.applyAsLong(m);
    }
    for (Message m : s.inbox()) {
      bytes += 16 + messageBytes.applyAsLong(m);
    }
    for (ToolCallState c : s.calls()) {
      bytes += 16 + utf8(c.result().map(Object::toString).orElse(""));
    }
    bytes += utf8(s.loop().plan().toString()) + 1024L;
    // the context pack's other parts: runtime rules, run state and budget, policy, contract,
    // profile
    bytes +=
        utf8(dev.keel.agent.ContextAssembler.DEVELOPER)
            + 1024L
            + utf8(String.valueOf(agent.approvalOverrides()))
            + agent.outputSchema().map(x -> utf8(x.toString())).orElse(0L);
    return bytes + 256L * agent.tools().size() + 1024L * agent.capabilities().size();
  }

  /** The UTF-8 bytes of a message's text, tool calls or result and tool name. */
  static long messageBytes(Message m) {
    return switch (m) {
      case Message.System x -> utf8(x.text());
      case Message.User x -> utf8(x.text());
      case Message.Assistant x -> utf8(x.text()) + utf8(x.toolCalls().toString());
      case Message.ToolResult x -> utf8(x.content().toString()) + utf8(x.toolName());
    };
  }

  /** The UTF-8 length of {@code s}, counted without encoding it (a lone surrogate counts 1). */
  static long utf8(String s) {
    long n = s.length();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x80) {
        if (c < 0x800) {
          n += 1;
        } else if (Character.isHighSurrogate(c)
            && i + 1 < s.length()
            && Character.isLowSurrogate(s.charAt(i + 1))) {
          n += 2; // the pair's two chars count 2, its four bytes 4
          i++;
        } else if (Character.isSurrogate(c)) {
          // a lone surrogate: String.getBytes writes '?', one byte
        } else {
          n += 2;
        }
      }
    }
    return n;
  }

  static String micros(long m) {
    return java.math.BigDecimal.valueOf(m, 6).stripTrailingZeros().toPlainString();
  }
}
