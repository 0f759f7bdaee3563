package dev.keel.tools;

import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * Which runs may see a tool. Each dimension lists the allowed values, {@code "*"} for any; an empty
 * set allows none, so a tool nobody opened is denied by default.
 *
 * @param tenants allowed tenants
 * @param tiers allowed tiers (such as {@code free}, {@code enterprise})
 * @param locales allowed locales (such as {@code en-GB})
 * @param requiredFlags capability or experiment flags the run must carry, all of them
 */
public record Availability(
    Set<String> tenants, Set<String> tiers, Set<String> locales, Set<String> requiredFlags) {

  /** The wildcard for a dimension. */
  public static final String ANY = "*";

  /** Available to no run at all: the default. */
  public static final Availability NOBODY =
      new Availability(Set.of(), Set.of(), Set.of(), Set.of());

  /** Available to every tenant, tier and locale without flags. */
  public static final Availability EVERYONE =
      new Availability(Set.of(ANY), Set.of(ANY), Set.of(ANY), Set.of());

  /** Copies the sets. */
  public Availability {
    tenants = Set.copyOf(Objects.requireNonNull(tenants, "tenants"));
    tiers = Set.copyOf(Objects.requireNonNull(tiers, "tiers"));
    locales = Set.copyOf(Objects.requireNonNull(locales, "locales"));
    requiredFlags = Set.copyOf(Objects.requireNonNull(requiredFlags, "requiredFlags"));
  }

  /** Available to {@code tenants} only, any tier and locale. */
  public static Availability tenants(String... tenants) {
    return new Availability(Set.of(tenants), Set.of(ANY), Set.of(ANY), Set.of());
  }

  /** A copy that also requires {@code flag}. */
  public Availability requiringFlag(String flag) {
    var flags = new HashSet<>(requiredFlags);
    flags.add(flag);
    return new Availability(tenants, tiers, locales, flags);
  }

  /** A copy limited to {@code tiers}. */
  public Availability inTiers(String... tiers) {
    return new Availability(tenants, Set.of(tiers), locales, requiredFlags);
  }

  /** A copy limited to {@code locales}. */
  public Availability inLocales(String... locales) {
    return new Availability(tenants, tiers, Set.of(locales), requiredFlags);
  }

  /** Whether a run with {@code profile} may see the tool. */
  public boolean admits(RunProfile profile) {
    return matches(tenants, profile.tenant())
        && matches(tiers, profile.tier())
        && matches(locales, profile.locale())
        && profile.flags().containsAll(requiredFlags);
  }

  private static boolean matches(Set<String> allowed, String value) {
    return allowed.contains(ANY) || allowed.contains(value);
  }
}
