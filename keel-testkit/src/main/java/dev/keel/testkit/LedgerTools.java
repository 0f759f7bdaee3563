package dev.keel.testkit;

import dev.keel.json.JsonValue;
import dev.keel.tool.Idempotency;
import dev.keel.tool.Tool;
import dev.keel.tool.ToolInvocation;
import dev.keel.tool.ToolResult;
import dev.keel.tool.ToolSpec;
import dev.keel.tool.UnknownOutcomePolicy;
import java.io.IOException;
import java.net.http.HttpClient;
import java.util.List;

/**
 * Tools whose side effects land in a {@link LedgerService}: {@code ledger.charge} honours the
 * idempotency key; {@code ledger.notify} does not, and asks a person when its outcome is unknown;
 * {@code ledger.transfer} honours the key and, at risk level 3, needs an approval.
 */
public final class LedgerTools {
  private LedgerTools() {}

  /** Both tools against the service at {@code baseUrl}. */
  public static List<Tool> against(String baseUrl) {
    HttpClient client = HttpClient.newHttpClient();
    return List.of(
        tool(client, baseUrl, "ledger.charge", Idempotency.KEYED, 1),
        tool(client, baseUrl, "ledger.notify", Idempotency.NONE, 1),
        tool(client, baseUrl, "ledger.transfer", Idempotency.KEYED, 3));
  }

  private static Tool tool(
      HttpClient client, String baseUrl, String name, Idempotency idem, int risk) {
    ToolSpec spec =
        ToolSpec.builder(name)
            .description("records one effect in the external ledger")
            .riskLevel(risk)
            .idempotency(idem)
            .unknownOutcome(UnknownOutcomePolicy.ASK_PERSON)
            .build();
    return new Tool() {
      @Override
      public ToolSpec spec() {
        return spec;
      }

      @Override
      public ToolResult invoke(ToolInvocation inv) throws InterruptedException {
        try {
          int n =
              LedgerService.send(client, baseUrl, inv.idempotencyKey(), idem == Idempotency.KEYED);
          return new ToolResult.Success(JsonValue.object("effects", (long) n));
        } catch (IOException x) {
          return new ToolResult.Failure(
              "unavailable", true, "ledger unreachable: " + x.getMessage(), "retry later");
        }
      }
    };
  }
}
