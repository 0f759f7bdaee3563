package dev.keel.tools;

import java.util.Objects;
import java.util.Set;

/**
 * What a run is, for choosing its tools: who runs it, on which tier and locale, with which
 * capability or experiment flags and which granted scopes.
 *
 * @param tenant the run's tenant
 * @param runId the run
 * @param tier the tenant's tier
 * @param locale the run's locale
 * @param flags capability and experiment flags switched on for the run
 * @param scopes the scopes the run's credentials grant
 */
public record RunProfile(
    String tenant,
    String runId,
    String tier,
    String locale,
    Set<String> flags,
    Set<String> scopes) {
  /** Checks the fields and copies the sets. */
  public RunProfile {
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(runId, "runId");
    Objects.requireNonNull(tier, "tier");
    Objects.requireNonNull(locale, "locale");
    flags = Set.copyOf(Objects.requireNonNull(flags, "flags"));
    scopes = Set.copyOf(Objects.requireNonNull(scopes, "scopes"));
    if (tenant.isBlank()) {
      throw new IllegalArgumentException("runProfile.tenant must not be blank");
    }
  }
}
