package dev.keel.server;

import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An error answered as RFC 9457 {@code application/problem+json}: what went wrong ({@code code},
 * {@code title}), where and what to do ({@code detail}), and for validation the JSON pointers.
 */
public final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * One validation failure.
   *
   * @param pointer the JSON pointer into the request ({@code ""} for the whole body)
   * @param message what is wrong there
   */
  public record FieldError(String pointer, String message) {}

  private final int status;
  private final String code;
  private final String title;
  private final transient List<FieldError> errors;
  private final transient Map<String, String> headers;

  /** An error with {@code status}, a stable {@code code}, a short title and a detail. */
  public ApiException(int status, String code, String title, String detail) {
    this(status, code, title, detail, List.of(), Map.of());
  }

  private ApiException(
      int status,
      String code,
      String title,
      String detail,
      List<FieldError> errors,
      Map<String, String> headers) {
    super(detail);
    this.status = status;
    this.code = code;
    this.title = title;
    this.errors = List.copyOf(errors);
    this.headers = Map.copyOf(headers);
  }

  /** A 400 {@code invalid_argument} listing every field error. */
  public static ApiException invalid(List<FieldError> errors) {
    String first = errors.isEmpty() ? "" : errors.getFirst().pointer();
    String detail =
        errors.size() == 1
            ? "the request is invalid at '" + first + "': " + errors.getFirst().message()
            : errors.size() + " problems in the request, the first at '" + first + "'";
    return new ApiException(
        400, "invalid_argument", "Invalid request", detail, new ArrayList<>(errors), Map.of());
  }

  /** A 400 {@code invalid_argument} for one field. */
  public static ApiException invalid(String pointer, String message) {
    return invalid(List.of(new FieldError(pointer, message)));
  }

  /** An error with {@code status} and {@code code}, listing the JSON pointers of {@code errors}. */
  public static ApiException refused(
      int status, String code, String detail, List<FieldError> errors) {
    String title = status == 404 ? "Not found" : status == 403 ? "Forbidden" : "Refused";
    return new ApiException(status, code, title, detail, new ArrayList<>(errors), Map.of());
  }

  /** A 404 {@code not_found} for a {@code what} named {@code id}. */
  public static ApiException notFound(String what, String id) {
    return new ApiException(
        404,
        "not_found",
        "Not found",
        what + " '" + id + "' does not exist or belongs to another tenant");
  }

  /** A copy that also sends {@code name: value}. */
  public ApiException withHeader(String name, String value) {
    Map<String, String> h = new java.util.LinkedHashMap<>(headers);
    h.put(name, value);
    return new ApiException(status, code, title, getMessage(), errors, h);
  }

  /** The HTTP status. */
  public int status() {
    return status;
  }

  /** The stable machine code. */
  public String code() {
    return code;
  }

  /** Extra response headers, such as {@code Retry-After}. */
  public Map<String, String> headers() {
    return headers;
  }

  /** The field errors of a validation failure. */
  public List<FieldError> errors() {
    return errors;
  }

  /** The problem document. */
  public JsonObject problem(Optional<String> instance) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("type", "https://keel.dev/problems/" + code.replace('_', '-'));
    m.put("title", title);
    m.put("status", (long) status);
    m.put("detail", getMessage() == null ? title : getMessage());
    m.put("code", code);
    instance.ifPresent(i -> m.put("instance", i));
    if (!errors.isEmpty()) {
      m.put(
          "errors",
          errors.stream()
              .map(
                  e -> (JsonValue) JsonValue.object("pointer", e.pointer(), "message", e.message()))
              .toList());
    }
    return (JsonObject) JsonValue.from(m);
  }
}
