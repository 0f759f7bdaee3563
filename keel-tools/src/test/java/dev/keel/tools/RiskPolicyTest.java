package dev.keel.tools;

import static dev.keel.tools.Fixtures.contract;
import static dev.keel.tools.Fixtures.json;
import static dev.keel.tools.Fixtures.profile;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.json.JsonValue.JsonObject;
import dev.keel.tool.PolicyVerdict;
import dev.keel.tool.ToolPolicy;
import dev.keel.tool.ToolSpec;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RiskPolicyTest {
  private final Fixtures.Env env = new Fixtures.Env();
  private final JsonObject ok = json("{\"q\":\"hello\"}");

  private ToolCatalog catalog() {
    return new ToolCatalog(
        List.of(
            new Fixtures.Spy(contract("t.read", 0).build()).tool,
            new Fixtures.Spy(contract("t.write", 1).build()).tool,
            new Fixtures.Spy(contract("t.draft", 2).build()).tool,
            new Fixtures.Spy(contract("t.send", 3).build()).tool,
            new Fixtures.Spy(contract("t.pay", 4).build()).tool,
            new Fixtures.Spy(contract("t.gated", 0).approval(ApprovalPolicy.ALWAYS).build()).tool,
            new Fixtures.Spy(contract("t.scoped", 0).requiredScopes("crm:read").build()).tool,
            new Fixtures.Spy(
                    contract("t.acme_only", 0).availability(Availability.tenants("acme")).build())
                .tool),
        env.runtime);
  }

  private ToolPolicy policy(AgentToolPolicy agent) {
    return catalog().forRun(profile("globex"), agent).policy();
  }

  private ToolSpec spec(String name) {
    return catalog().find(name).orElseThrow().spec();
  }

  @Test
  void defaultsFollowRiskLevels() {
    ToolPolicy p = policy(AgentToolPolicy.STRICT);
    assertThat(p.decide("globex", spec("t.read"), ok)).isInstanceOf(PolicyVerdict.Allow.class);
    assertThat(p.decide("globex", spec("t.write"), ok)).isInstanceOf(PolicyVerdict.Allow.class);
    assertThat(p.decide("globex", spec("t.draft"), ok)).isInstanceOf(PolicyVerdict.Allow.class);
    assertThat(p.decide("globex", spec("t.send"), ok))
        .isInstanceOf(PolicyVerdict.RequireApproval.class);
    assertThat(p.decide("globex", spec("t.pay"), ok))
        .isInstanceOf(PolicyVerdict.RequireApproval.class);
    assertThat(p.decide("globex", spec("t.gated"), ok))
        .isInstanceOf(PolicyVerdict.RequireApproval.class);
  }

  @Test
  void agentMayWaiveLevel3ButNeverLevel4() {
    ToolPolicy p = policy(new AgentToolPolicy(true, Set.of("t.pay")));
    assertThat(p.decide("globex", spec("t.send"), ok)).isInstanceOf(PolicyVerdict.Allow.class);
    assertThat(p.decide("globex", spec("t.pay"), ok))
        .isInstanceOf(PolicyVerdict.RequireApproval.class);
    ToolPolicy one = policy(new AgentToolPolicy(false, Set.of("t.send")));
    assertThat(one.decide("globex", spec("t.send"), ok)).isInstanceOf(PolicyVerdict.Allow.class);
  }

  @Test
  void unknownUnavailableForeignAndAlteredToolsAreDenied() {
    ToolPolicy p = policy(AgentToolPolicy.STRICT);
    assertThat(p.decide("globex", ToolSpec.builder("t.unknown").build(), ok))
        .isInstanceOf(PolicyVerdict.Deny.class);
    assertThat(p.decide("globex", spec("t.acme_only"), ok)).isInstanceOf(PolicyVerdict.Deny.class);
    assertThat(p.decide("acme", spec("t.read"), ok)).isInstanceOf(PolicyVerdict.Deny.class);
    ToolSpec altered =
        ToolSpec.builder("t.read").version("2").inputSchema(spec("t.read").inputSchema()).build();
    assertThat(p.decide("globex", altered, ok)).isInstanceOf(PolicyVerdict.Deny.class);
    ToolSpec lowered =
        ToolSpec.builder("t.pay")
            .description(spec("t.pay").description())
            .inputSchema(spec("t.pay").inputSchema())
            .riskLevel(0)
            .build();
    assertThat(p.decide("globex", lowered, ok)).isInstanceOf(PolicyVerdict.Deny.class);
  }

  @Test
  void missingScopeIsDenied() {
    ToolPolicy p = policy(AgentToolPolicy.STRICT);
    assertThat(p.decide("globex", spec("t.scoped"), ok))
        .isInstanceOfSatisfying(
            PolicyVerdict.Deny.class, d -> assertThat(d.reason()).contains("crm:read"));
    ToolPolicy granted =
        catalog()
            .forRun(
                new RunProfile("globex", "run-2", "pro", "en-GB", Set.of(), Set.of("crm:read")),
                AgentToolPolicy.STRICT)
            .policy();
    assertThat(granted.decide("globex", spec("t.scoped"), ok))
        .isInstanceOf(PolicyVerdict.Allow.class);
  }

  @Test
  void invalidArgumentsAreDeniedWithPointersABoundedNumberOfTimes() {
    ToolPolicy p = catalog().forRun(profile("globex"), AgentToolPolicy.STRICT, 2).policy();
    PolicyVerdict first = p.decide("globex", spec("t.read"), json("{\"q\":\"\",\"x\":1}"));
    assertThat(first)
        .isInstanceOfSatisfying(
            PolicyVerdict.Deny.class,
            d ->
                assertThat(d.reason())
                    .startsWith("invalid_arguments")
                    .contains("/q:")
                    .contains("/x:")
                    .contains("1 tries left"));
    assertThat(p.decide("globex", spec("t.read"), json("{}")))
        .isInstanceOf(PolicyVerdict.Deny.class);
    assertThat(p.decide("globex", spec("t.read"), ok))
        .isInstanceOfSatisfying(
            PolicyVerdict.Deny.class, d -> assertThat(d.reason()).contains("refused for the rest"));
    assertThat(p.decide("globex", spec("t.draft"), ok)).isInstanceOf(PolicyVerdict.Allow.class);
  }

  @Test
  void proposalAndVerdictAreAuditedWithSecretsRedacted() {
    ToolPolicy p = policy(AgentToolPolicy.STRICT);
    p.decide("globex", spec("t.read"), json("{\"q\":\"canary-secret-4711\"}"));
    assertThat(env.audit.of(ToolAuditEvent.CallProposed.class))
        .singleElement()
        .satisfies(e -> assertThat(e.arguments().toString()).doesNotContain("canary-secret-4711"));
    assertThat(env.audit.of(ToolAuditEvent.PolicyDecided.class))
        .singleElement()
        .satisfies(e -> assertThat(e.verdict()).isEqualTo("allow"));
  }
}
