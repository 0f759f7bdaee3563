package dev.keel.app;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.engine.Decision;
import dev.keel.json.JsonValue;
import dev.keel.model.Message;
import dev.keel.model.ModelProvider;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.server.auth.KeyTokens;
import dev.keel.testkit.ScriptedModel;
import dev.keel.tool.Idempotency;
import dev.keel.tool.Tool;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolRegistry;
import dev.keel.tool.ToolResult;
import dev.keel.tool.ToolSpec;
import dev.keel.tool.UnknownOutcomePolicy;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The example that works offline with no configuration: the {@code support-triage} agent on the
 * scripted provider, defined by {@code agents/support-triage.yaml} (the copy on the classpath when
 * there is no {@code ./agents} folder). It writes a plan and looks up the order named in the goal
 * with a read tool, updates the plan and proposes a refund that needs a person's approval, then
 * finishes with a text and structured data that the agent's output schema checks.
 */
public final class DemoCatalog {
  private static final Pattern ORDER = Pattern.compile("\\b([A-Z]{1,3}-?\\d{3,})\\b");
  private static final BigDecimal AMOUNT = new BigDecimal("42.50");

  private DemoCatalog() {}

  /** The demo agents, read from the classpath copy of {@code agents/support-triage.yaml}. */
  public static AgentCatalog agents() {
    return AgentCatalog.of(List.of(triage()));
  }

  /** The {@code support-triage} definition. */
  static AgentSpec triage() {
    try (var in = DemoCatalog.class.getResourceAsStream("/agents/support-triage.yaml")) {
      if (in == null) {
        throw new IllegalStateException("agents/support-triage.yaml is missing from keel-app");
      }
      String text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      return AgentFolder.parse(
          "agents/support-triage.yaml", text, java.util.Set.of("orders.lookup", "orders.refund"));
    } catch (java.io.IOException x) {
      throw new java.io.UncheckedIOException(x);
    }
  }

  private static JsonValue plan(String lookup, String refund, String answer) {
    return JsonValue.object(
        "steps",
        List.of(
            JsonValue.object(
                "id",
                "lookup",
                "title",
                "Look up the order",
                "status",
                lookup,
                "tool",
                "orders.lookup"),
            JsonValue.object(
                "id",
                "refund",
                "title",
                "Refund the damaged item",
                "status",
                refund,
                "tool",
                "orders.refund"),
            JsonValue.object("id", "answer", "title", "Tell the customer", "status", answer)));
  }

  /** The demo tools: a read and a refund that honours its idempotency key. */
  public static ToolRegistry tools() {
    return new ToolRegistry(List.of(lookup(), refund()));
  }

  /** The scripted model that drives {@code support-triage}. */
  public static ModelProvider model() {
    return ScriptedModel.of(DemoCatalog::reply);
  }

  private static ModelResponse reply(ModelRequest request, int step) {
    String order = orderOf(request);
    return switch (step) {
      case 1 ->
          ScriptedModel.calls(
              ScriptedModel.call(
                  "plan_1",
                  Decision.UPDATE_PLAN,
                  (JsonValue.JsonObject) plan("in_progress", "pending", "pending")),
              ScriptedModel.call("lookup_1", "orders.lookup", JsonValue.object("order_id", order)));
      case 2 ->
          ScriptedModel.calls(
              ScriptedModel.call(
                  "plan_2",
                  Decision.UPDATE_PLAN,
                  (JsonValue.JsonObject) plan("done", "in_progress", "pending")),
              ScriptedModel.call(
                  "refund_1",
                  "orders.refund",
                  JsonValue.object(
                      "order_id", order, "amount_usd", AMOUNT, "reason", "damaged on arrival")));
      default -> {
        Message last = request.messages().getLast();
        if (last instanceof Message.ToolResult r && r.isError()) {
          yield finish(
              "I could not refund order "
                  + order
                  + " ("
                  + r.content()
                  + "). A colleague will follow up with you.",
              JsonValue.object("order_id", order, "outcome", "not_refunded"));
        }
        String refundId =
            last instanceof Message.ToolResult r && r.content() instanceof JsonValue.JsonObject o
                ? o.string("refund_id").orElse("")
                : "";
        yield finish(
            "I refunded $" + AMOUNT.toPlainString() + " for order " + order + ".",
            JsonValue.object(
                "order_id",
                order,
                "outcome",
                "refunded",
                "refund_id",
                refundId,
                "amount_usd",
                AMOUNT));
      }
    };
  }

  private static ModelResponse finish(String text, JsonValue.JsonObject data) {
    return ScriptedModel.calls(
        ScriptedModel.call(
            "finish_1", Decision.FINISH, JsonValue.object("text", text, "data", data)));
  }

  private static String orderOf(ModelRequest request) {
    for (Message m : request.messages()) {
      if (m instanceof Message.User u) {
        Matcher x = ORDER.matcher(u.text());
        if (x.find()) {
          return x.group(1);
        }
      }
    }
    return "A-1001";
  }

  private static Tool lookup() {
    ToolSpec spec =
        ToolSpec.builder("orders.lookup")
            .description("Looks up an order by id: status, total and customer.")
            .inputSchema(
                JsonValue.object(
                    "type", "object",
                    "required", List.of("order_id"),
                    "properties", JsonValue.object("order_id", JsonValue.object("type", "string"))))
            .riskLevel(0)
            .unknownOutcome(UnknownOutcomePolicy.FAIL)
            .build();
    return new Tool() {
      @Override
      public ToolSpec spec() {
        return spec;
      }

      @Override
      public ToolResult invoke(ToolInvocation inv) {
        String order = inv.arguments().string("order_id").orElse("?");
        return new ToolResult.Success(
            JsonValue.object(
                "order_id", order,
                "status", "delivered",
                "total_usd", AMOUNT,
                "customer", "Dana Example",
                "note", "customer reports the item arrived damaged"));
      }
    };
  }

  private static Tool refund() {
    ToolSpec spec =
        ToolSpec.builder("orders.refund")
            .description("Refunds an order to the original payment method.")
            .inputSchema(
                JsonValue.object(
                    "type", "object",
                    "required", List.of("order_id", "amount_usd"),
                    "properties",
                        JsonValue.object(
                            "order_id", JsonValue.object("type", "string"),
                            "amount_usd", JsonValue.object("type", "number"),
                            "reason", JsonValue.object("type", "string"))))
            .riskLevel(3)
            .idempotency(Idempotency.KEYED)
            .unknownOutcome(UnknownOutcomePolicy.ASK_PERSON)
            .build();
    Map<String, String> refunds = new ConcurrentHashMap<>();
    return new Tool() {
      @Override
      public ToolSpec spec() {
        return spec;
      }

      @Override
      public ToolResult invoke(ToolInvocation inv) {
        String id =
            refunds.computeIfAbsent(
                inv.idempotencyKey(), k -> "rf_" + KeyTokens.sha256(k).substring(0, 12));
        return new ToolResult.Success(
            JsonValue.object(
                "refund_id",
                id,
                "order_id",
                inv.arguments().string("order_id").orElse("?"),
                "amount_usd",
                inv.arguments().get("amount_usd").orElse(JsonValue.NULL)));
      }
    };
  }
}
