package dev.keel.server.auth;

/**
 * A key just issued: the stored record and the token, which is shown exactly once.
 *
 * @param key the stored record
 * @param token the secret bearer token
 */
public record IssuedKey(ApiKey key, String token) {
  @Override
  public String toString() {
    return "IssuedKey[" + key.id() + ", token=<redacted>]";
  }
}
