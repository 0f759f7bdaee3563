package dev.keel.server;

import dev.keel.json.JsonValue;

/**
 * A JSON answer of a route.
 *
 * @param status the HTTP status
 * @param body the JSON body
 */
record Reply(int status, JsonValue body) {
  /** A 200 with {@code body}. */
  static Reply ok(JsonValue body) {
    return new Reply(200, body);
  }
}
