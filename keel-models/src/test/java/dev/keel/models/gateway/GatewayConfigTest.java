package dev.keel.models.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.model.FinishReason;
import dev.keel.model.ModelException;
import dev.keel.model.ModelProvider;
import dev.keel.model.ModelResponse;
import dev.keel.model.TokenUsage;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class GatewayConfigTest {
  private final TestClock clock = new TestClock();

  static Map<String, String> config() {
    Map<String, String> c = new HashMap<>();
    c.put("providers.openai.protocol", "openai-chat");
    c.put("providers.openai.base-url", "http://127.0.0.1:9/v1");
    c.put("providers.openai.api-key", "env:KEEL_TEST_NO_SUCH_KEY");
    c.put("providers.local.protocol", "ollama");
    c.put("providers.local.base-url", "http://127.0.0.1:9");
    c.put("providers.local.connect-timeout", "200ms");
    c.put("models.gpt.provider", "openai");
    c.put("models.gpt.model", "gpt-4o-mini");
    c.put("models.gpt.capabilities", "tools,structured");
    c.put("models.llama.provider", "local");
    c.put("models.llama.model", "llama3.2");
    c.put("models.llama.self-hosted", "true");
    c.put("models.llama.capabilities", "tools");
    c.put("prices.version", "2026-11-01");
    c.put("prices.gpt-4o-mini.input", "150000");
    c.put("prices.gpt-4o-mini.output", "600000");
    c.put("routes.default.chain", "gpt,llama");
    c.put("routes.default.timeouts", "20s,30s");
    c.put("routes.default.degraded", "llama");
    c.put("routes.classify.task-types", "classification");
    c.put("routes.classify.chain", "llama");
    c.put("routes.classify.order", "1");
    c.put("routes.classify.rules", "unknown-label");
    c.put("tenants.acme.self-hosted-only", "true");
    return c;
  }

  @Test
  void buildsAWorkingGatewayFromFlatKeys() {
    ModelResponse unknown =
        new ModelResponse("rules", "unknown", List.of(), TokenUsage.ZERO, FinishReason.STOP);
    ModelGateway gw =
        GatewayConfig.build(
            config(), Map.of("unknown-label", (r, c) -> Optional.of(unknown)), clock);
    // No server listens on port 9: both live tiers fail, the rule-based tier answers, degraded.
    GatewayResult r =
        gw.call(
            GatewayFixtures.request("label this"),
            CallContext.of("globex").withTaskType(TaskType.CLASSIFICATION));
    assertThat(r.decision().route().name()).isEqualTo("classify");
    assertThat(r.source()).isEqualTo(GatewayResult.Source.RULES);
    assertThat(r.degraded()).isTrue();

    assertThatThrownBy(() -> gw.call(GatewayFixtures.request("hi"), CallContext.of("acme")))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("tenant acme allows self-hosted models only")
        .hasMessageContaining("llama: attempt 1 failed");
    assertThat(gw.breaker("openai")).isPresent();
  }

  @Test
  void missingKeyOnlyFailsWhenCalled() {
    ModelGateway gw =
        GatewayConfig.build(config(), Map.of("unknown-label", (r, c) -> Optional.empty()), clock);
    ModelProvider provider = gw.asProvider("gateway", CallContext.of("globex"), result -> {});
    assertThatThrownBy(() -> provider.complete(GatewayFixtures.request("hi")))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("no API key found in environment variable KEEL_TEST_NO_SUCH_KEY");
  }

  @Test
  void mistakesNameTheirKey() {
    Map<String, String> typo = config();
    typo.put("routes.default.chian", "gpt");
    assertThatThrownBy(() -> GatewayConfig.build(typo, Map.of(), clock))
        .hasMessageContaining("'routes.default.chian'");
    Map<String, String> badProtocol = config();
    badProtocol.put("providers.local.protocol", "grpc");
    assertThatThrownBy(() -> GatewayConfig.build(badProtocol, Map.of(), clock))
        .hasMessageContaining("providers.local.protocol 'grpc'");
    Map<String, String> badRule = config();
    assertThatThrownBy(() -> GatewayConfig.build(badRule, Map.of(), clock))
        .hasMessageContaining("unknown rule 'unknown-label'");
    assertThat(GatewayConfig.parseDuration("k", "1500ms")).isEqualTo(Duration.ofMillis(1500));
    assertThat(GatewayConfig.parseDuration("k", "PT2M")).isEqualTo(Duration.ofMinutes(2));
    assertThatThrownBy(() -> GatewayConfig.parseDuration("routes.x.timeouts", "soon"))
        .hasMessageContaining("routes.x.timeouts");
  }
}
