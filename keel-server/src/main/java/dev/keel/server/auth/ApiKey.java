package dev.keel.server.auth;

import java.time.Instant;
import java.util.Objects;
import java.util.Set;

/**
 * A stored API key: never the secret itself, only its SHA-256.
 *
 * @param id the key's public id ({@code key_...}), also the first part of the token
 * @param tenant the one tenant the key acts for
 * @param role what the key may do
 * @param scopes explicit scopes; empty means everything the role allows
 * @param secretHash hex SHA-256 of the whole token
 * @param createdAt when it was issued
 */
public record ApiKey(
    String id, String tenant, Role role, Set<Scope> scopes, String secretHash, Instant createdAt) {
  /** Checks the fields and copies the scopes. */
  public ApiKey {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(role, "role");
    scopes = Set.copyOf(scopes);
    Objects.requireNonNull(secretHash, "secretHash");
    Objects.requireNonNull(createdAt, "createdAt");
  }

  /** Whether this key may act with {@code scope}. */
  public boolean permits(Scope scope) {
    return role.allows(scope) && (scopes.isEmpty() || scopes.contains(scope));
  }
}
