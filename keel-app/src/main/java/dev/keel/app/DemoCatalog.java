package dev.keel.app;

import dev.keel.agent.AgentCatalog;
import dev.keel.agent.AgentSpec;
import dev.keel.json.JsonValue;
import dev.keel.model.Message;
import dev.keel.model.ModelProvider;
import dev.keel.model.ModelRequest;
import dev.keel.model.ModelResponse;
import dev.keel.run.Budget;
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
 * scripted provider. It looks up the order named in the goal with a read tool, proposes a refund
 * with a risk-3 tool that needs a person's approval, then answers.
 */
public final class DemoCatalog {
  private static final Pattern ORDER = Pattern.compile("\\b([A-Z]{1,3}-?\\d{3,})\\b");
  private static final BigDecimal AMOUNT = new BigDecimal("42.50");

  private DemoCatalog() {}

  /** The demo agents. */
  public static AgentCatalog agents() {
    return AgentCatalog.of(
        List.of(
            new AgentSpec(
                "support-triage",
                "1",
                "You triage support requests: look up the order, propose a refund when the"
                    + " customer is owed one, then tell the customer what happened.",
                "scripted",
                List.of("orders.lookup", "orders.refund"),
                Budget.DEFAULT,
                512)));
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
              ScriptedModel.call("lookup_1", "orders.lookup", JsonValue.object("order_id", order)));
      case 2 ->
          ScriptedModel.calls(
              ScriptedModel.call(
                  "refund_1",
                  "orders.refund",
                  JsonValue.object(
                      "order_id", order, "amount_usd", AMOUNT, "reason", "damaged on arrival")));
      default -> {
        Message last = request.messages().getLast();
        if (last instanceof Message.ToolResult r && r.isError()) {
          yield ScriptedModel.text(
              "I could not refund order "
                  + order
                  + " ("
                  + r.content()
                  + "). A colleague will follow up with you.");
        }
        yield ScriptedModel.text(
            "I refunded $" + AMOUNT.toPlainString() + " for order " + order + ".");
      }
    };
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
