package dev.keel.server;

import dev.keel.json.JsonLimits;
import dev.keel.json.JsonValue.JsonObject;
import dev.keel.server.auth.ApiKey;
import io.javalin.http.Context;
import java.util.Optional;

/** One request as a route sees it: the context, the caller's key and the bounded body. */
final class Call {
  private final Context ctx;
  private final Optional<ApiKey> key;
  private final byte[] body;
  private final JsonLimits limits;

  Call(Context ctx, Optional<ApiKey> key, byte[] body, JsonLimits limits) {
    this.ctx = ctx;
    this.key = key;
    this.body = body;
    this.limits = limits;
  }

  Context ctx() {
    return ctx;
  }

  /** The caller's key; routes that need one are only reached with one. */
  ApiKey key() {
    return key.orElseThrow(() -> new IllegalStateException("route needs a key"));
  }

  String tenant() {
    return key().tenant();
  }

  /** The body as a JSON object ({@code {}} when empty). */
  JsonObject json() {
    String type = ctx.header("Content-Type");
    return RequestBody.object(body, type == null ? "" : type, limits);
  }

  String path(String name) {
    return ctx.pathParam(name);
  }

  Optional<String> query(String name) {
    return Optional.ofNullable(ctx.queryParam(name)).filter(s -> !s.isEmpty());
  }

  /** A whole-number query parameter in {@code [min, max]}, or {@code dflt} when absent. */
  long queryLong(String name, long dflt, long min, long max) {
    Optional<String> v = query(name);
    if (v.isEmpty()) {
      return dflt;
    }
    try {
      long n = Long.parseLong(v.get());
      if (n < min || n > max) {
        throw ApiException.invalid(
            "?" + name, "must be between " + min + " and " + max + ", got " + n);
      }
      return n;
    } catch (NumberFormatException x) {
      throw ApiException.invalid("?" + name, "must be a whole number, got '" + v.get() + "'");
    }
  }
}
