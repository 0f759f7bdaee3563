package dev.keel.tools;

import static dev.keel.tools.Fixtures.contract;
import static dev.keel.tools.Fixtures.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.tool.Tool;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ToolCatalogTest {
  private final Fixtures.Env env = new Fixtures.Env();

  @Test
  void registrationRefusesInvalidSchemasDuplicatesAndMissingCompensations() {
    assertThatThrownBy(
            () ->
                new ToolCatalog(
                    List.of(
                        new Fixtures.Spy(
                                contract("t.bad", 0)
                                    .inputSchema(json("{\"type\":\"objekt\"}"))
                                    .build())
                            .tool),
                    env.runtime))
        .hasMessageContaining("t.bad");
    assertThatThrownBy(
            () ->
                new ToolCatalog(
                    List.of(
                        new Fixtures.Spy(
                                contract("t.out", 0)
                                    .outputSchema(json("{\"minimum\":\"one\"}"))
                                    .build())
                            .tool),
                    env.runtime))
        .hasMessageContaining("t.out outputSchema");
    assertThatThrownBy(
            () ->
                new ToolCatalog(
                    List.of(
                        new Fixtures.Spy(contract("t.a", 0).build()).tool,
                        new Fixtures.Spy(contract("t.a", 0).build()).tool),
                    env.runtime))
        .hasMessageContaining("registered twice");
    assertThatThrownBy(
            () ->
                new ToolCatalog(
                    List.of(
                        new Fixtures.Spy(contract("t.c", 3).compensation("t.undo").build()).tool),
                    env.runtime))
        .hasMessageContaining("t.undo");
  }

  @Test
  void runsSeeOnlyToolsTheirTenantTierLocaleAndFlagsAllow() {
    ToolCatalog catalog =
        new ToolCatalog(
            List.of(
                new Fixtures.Spy(contract("t.all", 0).build()).tool,
                new Fixtures.Spy(contract("t.closed", 0).availability(Availability.NOBODY).build())
                    .tool,
                new Fixtures.Spy(
                        contract("t.enterprise", 0)
                            .availability(Availability.EVERYONE.inTiers("enterprise"))
                            .build())
                    .tool,
                new Fixtures.Spy(
                        contract("t.german", 0)
                            .availability(Availability.EVERYONE.inLocales("de-DE"))
                            .build())
                    .tool,
                new Fixtures.Spy(
                        contract("t.beta", 0)
                            .version("7")
                            .availability(Availability.tenants("acme").requiringFlag("beta"))
                            .build())
                    .tool),
            env.runtime);
    RunTools plain =
        catalog.forRun(
            new RunProfile("acme", "r1", "pro", "en-GB", Set.of(), Set.of()),
            AgentToolPolicy.STRICT);
    assertThat(plain.versions()).containsOnlyKeys("t.all");
    RunTools beta =
        catalog.forRun(
            new RunProfile("acme", "r2", "enterprise", "de-DE", Set.of("beta"), Set.of()),
            AgentToolPolicy.STRICT);
    assertThat(beta.versions())
        .containsOnlyKeys("t.all", "t.enterprise", "t.german", "t.beta")
        .containsEntry("t.beta", "7");
    assertThat(beta.registry().all())
        .extracting(Tool::spec)
        .extracting(s -> s.name())
        .doesNotContain("t.closed");
    RunTools otherTenant =
        catalog.forRun(
            new RunProfile("globex", "r3", "enterprise", "de-DE", Set.of("beta"), Set.of()),
            AgentToolPolicy.STRICT);
    assertThat(otherTenant.versions()).doesNotContainKey("t.beta");
  }

  @Test
  void compensationToolsAreExecutableButNotProposable() {
    ToolCatalog catalog =
        new ToolCatalog(
            List.of(
                new Fixtures.Spy(contract("t.undo", 1).availability(Availability.NOBODY).build())
                    .tool,
                new Fixtures.Spy(contract("t.do", 3).compensation("t.undo").build()).tool),
            env.runtime);
    RunTools run = catalog.forRun(Fixtures.profile("acme"), AgentToolPolicy.STRICT);
    assertThat(run.registry().find("t.undo")).isPresent();
    assertThat(
            run.policy()
                .decide("acme", catalog.find("t.undo").orElseThrow().spec(), json("{\"q\":\"x\"}")))
        .isInstanceOf(dev.keel.tool.PolicyVerdict.Deny.class);
  }

  @Test
  void deploymentPolicyDecidesPerTenantProfile() {
    ToolCatalog catalog =
        new ToolCatalog(
            List.of(
                new Fixtures.Spy(contract("t.read", 0).build()).tool,
                new Fixtures.Spy(
                        contract("t.acme", 0).availability(Availability.tenants("acme")).build())
                    .tool,
                new Fixtures.Spy(contract("t.send", 3).build()).tool),
            env.runtime);
    dev.keel.tool.ToolPolicy policy =
        catalog.deploymentPolicy(Fixtures::profile, AgentToolPolicy.STRICT);
    var ok = json("{\"q\":\"x\"}");
    var acmeSpec = catalog.find("t.acme").orElseThrow().spec();
    assertThat(policy.decide("acme", acmeSpec, ok))
        .isInstanceOf(dev.keel.tool.PolicyVerdict.Allow.class);
    assertThat(policy.decide("globex", acmeSpec, ok))
        .isInstanceOf(dev.keel.tool.PolicyVerdict.Deny.class);
    assertThat(policy.decide("acme", catalog.find("t.send").orElseThrow().spec(), ok))
        .isInstanceOf(dev.keel.tool.PolicyVerdict.RequireApproval.class);
    assertThat(policy.decide("acme", catalog.find("t.read").orElseThrow().spec(), json("{}")))
        .isInstanceOf(dev.keel.tool.PolicyVerdict.Deny.class);
    assertThat(catalog.registry().all()).hasSize(3).allMatch(t -> t instanceof GovernedTool);
  }
}
