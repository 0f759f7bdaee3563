package dev.keel.tools.schema;

import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaException;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.path.NodePath;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A compiled JSON Schema (draft 2020-12), checked against the 2020-12 meta-schema before use.
 *
 * <p>Implementation notes: networknt accepts an invalid schema such as {@code {"type":"objekt"}}
 * silently and would then validate nothing, so {@link #compile} first validates the schema itself
 * against the bundled meta-schema (offline) and refuses it with the meta-schema's JSON pointers.
 * Remote {@code $ref}s are never fetched; a schema that needs one is refused. Violations are
 * reported with RFC 6901 pointers built from the instance path's segments.
 */
public final class JsonSchema {
  private static final String META_2020_12 = "https://json-schema.org/draft/2020-12/schema";
  private static final SchemaRegistry REGISTRY =
      SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
  private static final Schema META = REGISTRY.getSchema(SchemaLocation.of(META_2020_12));

  private static final java.util.Set<String> MEMBER_KEYWORDS =
      java.util.Set.of(
          "required", "additionalProperties", "unevaluatedProperties", "dependentRequired");

  private final JsonObject source;
  private final Schema schema;

  private JsonSchema(JsonObject source, Schema schema) {
    this.source = source;
    this.schema = schema;
  }

  /**
   * Compiles {@code schema}, refusing one that breaks the 2020-12 meta-schema or names another
   * dialect.
   *
   * @param owner what the schema belongs to, named in errors (such as {@code crm.get_account
   *     inputSchema})
   * @throws IllegalArgumentException naming the owner and every meta-schema violation
   */
  public static JsonSchema compile(String owner, JsonObject schema) {
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(schema, "schema");
    schema
        .string("$schema")
        .filter(s -> !s.equals(META_2020_12) && !s.equals(META_2020_12 + "#"))
        .ifPresent(
            s -> {
              throw new IllegalArgumentException(
                  owner
                      + ": $schema must be "
                      + META_2020_12
                      + " (draft 2020-12), got '"
                      + s
                      + "'");
            });
    String text = schema.toString();
    List<Violation> metaErrors = convert(META.validate(text, InputFormat.JSON));
    if (!metaErrors.isEmpty()) {
      throw new IllegalArgumentException(
          owner
              + " is not a valid JSON Schema 2020-12: "
              + String.join("; ", metaErrors.stream().map(Violation::render).toList()));
    }
    try {
      Schema compiled = REGISTRY.getSchema(text, InputFormat.JSON);
      compiled.initializeValidators();
      return new JsonSchema(schema, compiled);
    } catch (SchemaException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          owner + " cannot be compiled (remote $ref is never fetched): " + e.getMessage(), e);
    }
  }

  /** The schema as declared. */
  public JsonObject source() {
    return source;
  }

  /** Validates {@code instance}; an empty list means it conforms. */
  public List<Violation> validate(JsonValue instance) {
    return convert(schema.validate(instance.toString(), InputFormat.JSON));
  }

  private static List<Violation> convert(List<com.networknt.schema.Error> errors) {
    List<Violation> out = new ArrayList<>(errors.size());
    for (com.networknt.schema.Error e : errors) {
      String keyword = e.getKeyword() == null ? "" : e.getKeyword();
      String at = pointer(e.getInstanceLocation());
      if (MEMBER_KEYWORDS.contains(keyword) && e.getProperty() != null) {
        at = at + "/" + e.getProperty().replace("~", "~0").replace("/", "~1");
      }
      out.add(new Violation(at, keyword, e.getMessage()));
    }
    return out;
  }

  /** Renders a node path as an RFC 6901 pointer. */
  static String pointer(NodePath path) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < path.getNameCount(); i++) {
      Object element = path.getElement(i);
      sb.append('/').append(String.valueOf(element).replace("~", "~0").replace("/", "~1"));
    }
    return sb.toString();
  }
}
