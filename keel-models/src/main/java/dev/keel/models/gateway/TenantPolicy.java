package dev.keel.models.gateway;

import java.util.Set;

/**
 * What one tenant allows.
 *
 * @param tenant the tenant
 * @param allowedProviders providers the tenant's calls may go to; empty for any
 * @param selfHostedOnly whether every call of the tenant, whatever its data class, stays on
 *     self-hosted models
 */
public record TenantPolicy(String tenant, Set<String> allowedProviders, boolean selfHostedOnly) {
  /** Copies the set. */
  public TenantPolicy {
    if (tenant.isBlank()) {
      throw new IllegalArgumentException("tenant policy tenant must not be blank");
    }
    allowedProviders = Set.copyOf(allowedProviders);
  }
}
