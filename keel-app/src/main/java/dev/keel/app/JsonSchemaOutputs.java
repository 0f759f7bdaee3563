package dev.keel.app;

import dev.keel.agent.OutputContract;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.tools.schema.JsonSchema;
import dev.keel.tools.schema.Violation;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Agents' output schemas enforced with the full JSON Schema 2020-12 validator of keel-tools. */
final class JsonSchemaOutputs implements OutputContract {
  private final Map<JsonObject, JsonSchema> compiled = new ConcurrentHashMap<>();

  @Override
  public List<String> violations(JsonObject schema, JsonValue data) {
    JsonSchema s = compiled.computeIfAbsent(schema, x -> JsonSchema.compile("output_schema", x));
    return s.validate(data).stream().map(Violation::render).toList();
  }
}
