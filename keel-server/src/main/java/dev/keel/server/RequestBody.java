package dev.keel.server;

import dev.keel.json.JsonLimits;
import dev.keel.json.JsonParseException;
import dev.keel.json.JsonParser;
import dev.keel.json.JsonValue;
import dev.keel.json.JsonValue.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Reads a request body within bounds: the declared length is checked before anything is read, the
 * stream is cut off one byte past the limit, the bytes must be valid UTF-8, and the JSON is parsed
 * strictly (no duplicate keys, no NUL, bounded depth and lengths).
 */
final class RequestBody {
  private RequestBody() {}

  /** The raw bytes of the body, at most {@code max}; 413 beyond that. */
  static byte[] read(InputStream in, long declaredLength, int max) throws IOException {
    if (declaredLength > max) {
      throw tooLarge(max);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(0, (int) declaredLength));
    byte[] buf = new byte[8192];
    int total = 0;
    int n;
    while ((n = in.read(buf)) >= 0) {
      total += n;
      if (total > max) {
        throw tooLarge(max);
      }
      out.write(buf, 0, n);
    }
    return out.toByteArray();
  }

  private static ApiException tooLarge(int max) {
    return new ApiException(
        413,
        "payload_too_large",
        "Request body too large",
        "the request body is larger than the limit of "
            + max
            + " bytes (server.max-body-bytes); send a smaller body");
  }

  /**
   * The body as a JSON object; an empty body reads as {@code {}}. A non-empty body needs {@code
   * Content-Type: application/json} (415 otherwise).
   */
  static JsonObject object(byte[] bytes, String contentType, JsonLimits limits) {
    if (bytes.length == 0) {
      return JsonValue.EMPTY_OBJECT;
    }
    String type = contentType.toLowerCase(Locale.ROOT).split(";", 2)[0].strip();
    if (!type.equals("application/json") && !type.endsWith("+json")) {
      throw new ApiException(
          415,
          "unsupported_media_type",
          "Unsupported media type",
          "the body must be sent with Content-Type: application/json, got '"
              + (contentType.isEmpty() ? "(none)" : contentType)
              + "'");
    }
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString();
    } catch (CharacterCodingException x) {
      throw ApiException.invalid("", "the body is not valid UTF-8; send UTF-8 encoded JSON");
    }
    JsonValue v;
    try {
      v = JsonParser.parse(text, limits);
    } catch (JsonParseException x) {
      throw ApiException.invalid(x.pointer(), x.getMessage());
    } catch (RuntimeException x) {
      throw ApiException.invalid("", "the body is not valid JSON: " + x.getMessage());
    }
    if (v instanceof JsonObject o) {
      return o;
    }
    throw ApiException.invalid("", "the body must be a JSON object");
  }
}
