package dev.keel.observe;

import io.opentelemetry.api.common.AttributeKey;
import java.util.List;

/**
 * Attribute keys of the OpenTelemetry GenAI semantic conventions (Development status), defined here
 * because the incubating artifact deprecates its constants; the string keys are the contract.
 */
final class GenAi {
  static final AttributeKey<String> OPERATION = AttributeKey.stringKey("gen_ai.operation.name");
  static final AttributeKey<String> PROVIDER = AttributeKey.stringKey("gen_ai.provider.name");

  /** The deprecated twin of {@link #PROVIDER}, still read by LangSmith. */
  static final AttributeKey<String> SYSTEM = AttributeKey.stringKey("gen_ai.system");

  static final AttributeKey<String> REQUEST_MODEL = AttributeKey.stringKey("gen_ai.request.model");
  static final AttributeKey<Long> REQUEST_MAX_TOKENS =
      AttributeKey.longKey("gen_ai.request.max_tokens");
  static final AttributeKey<String> RESPONSE_MODEL =
      AttributeKey.stringKey("gen_ai.response.model");
  static final AttributeKey<List<String>> FINISH_REASONS =
      AttributeKey.stringArrayKey("gen_ai.response.finish_reasons");
  static final AttributeKey<Long> INPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.input_tokens");
  static final AttributeKey<Long> OUTPUT_TOKENS =
      AttributeKey.longKey("gen_ai.usage.output_tokens");
  static final AttributeKey<Long> CACHE_READ_TOKENS =
      AttributeKey.longKey("gen_ai.usage.cache_read.input_tokens");
  static final AttributeKey<Long> REASONING_TOKENS =
      AttributeKey.longKey("gen_ai.usage.reasoning.output_tokens");
  static final AttributeKey<String> CONVERSATION_ID =
      AttributeKey.stringKey("gen_ai.conversation.id");
  static final AttributeKey<String> AGENT_NAME = AttributeKey.stringKey("gen_ai.agent.name");
  static final AttributeKey<String> AGENT_ID = AttributeKey.stringKey("gen_ai.agent.id");
  static final AttributeKey<String> AGENT_VERSION = AttributeKey.stringKey("gen_ai.agent.version");
  static final AttributeKey<String> TOOL_NAME = AttributeKey.stringKey("gen_ai.tool.name");
  static final AttributeKey<String> TOOL_CALL_ID = AttributeKey.stringKey("gen_ai.tool.call.id");
  static final AttributeKey<String> TOOL_TYPE = AttributeKey.stringKey("gen_ai.tool.type");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
  static final AttributeKey<String> SESSION_ID = AttributeKey.stringKey("session.id");

  static final AttributeKey<String> RUN_ID = AttributeKey.stringKey("keel.run.id");
  static final AttributeKey<String> TENANT = AttributeKey.stringKey("keel.tenant");
  static final AttributeKey<String> WORKER = AttributeKey.stringKey("keel.worker.id");
  static final AttributeKey<Long> EPOCH = AttributeKey.longKey("keel.lease.epoch");
  static final AttributeKey<Long> QUEUE_DELAY_MS = AttributeKey.longKey("keel.queue.delay_ms");
  static final AttributeKey<Long> STEP = AttributeKey.longKey("keel.step");
  static final AttributeKey<Long> COST_MICROS = AttributeKey.longKey("keel.cost.micros");
  static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey("keel.attempts");
  static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("keel.execution.outcome");
  static final AttributeKey<String> STATUS = AttributeKey.stringKey("keel.run.status");
  static final AttributeKey<String> APPROVAL_ID = AttributeKey.stringKey("keel.approval.id");
  static final AttributeKey<String> DECISION = AttributeKey.stringKey("keel.approval.decision");

  private GenAi() {}

  /**
   * The {@code gen_ai.provider.name} of a model name, by the well-known prefixes; {@code
   * provider/model} names the provider explicitly.
   */
  static String provider(String model) {
    String m = model.toLowerCase(java.util.Locale.ROOT);
    int slash = m.indexOf('/');
    if (slash > 0) {
      return m.substring(0, slash);
    }
    if (m.startsWith("gpt") || m.startsWith("o1") || m.startsWith("o3") || m.startsWith("o4")) {
      return "openai";
    }
    if (m.startsWith("claude")) {
      return "anthropic";
    }
    if (m.startsWith("gemini")) {
      return "gcp.gemini";
    }
    if (m.startsWith("mistral") || m.startsWith("codestral")) {
      return "mistral_ai";
    }
    if (m.startsWith("anthropic.") || m.startsWith("amazon.") || m.startsWith("meta.")) {
      return "aws.bedrock";
    }
    if (m.startsWith("llama") || m.startsWith("qwen") || m.startsWith("phi")) {
      return "ollama";
    }
    return m.isEmpty() ? "unknown" : "keel";
  }
}
