package dev.keel.store;

import java.util.Objects;

/**
 * The tenant whose data the current thread is working for, which the stores pass to the database
 * with every transaction (on PostgreSQL, {@code keel.tenant} for row-level security).
 *
 * <p>The HTTP server enters the authenticated key's tenant for the whole of a request; a store call
 * made on that thread then sees only that tenant's rows, even if its query forgot the tenant
 * filter. Threads that work for every tenant (workers claiming runs, the webhook dispatcher, admin
 * commands) enter nothing and act for {@link #ALL}. See docs/decisions/0043.
 *
 * <p>Implementation notes. A plain (not inheritable) thread local: a thread started during a
 * request does not silently carry the request's tenant, and a pooled thread is restored by {@link
 * Entered#close()}. Stores that hand a write to another thread (the group committer) capture {@link
 * #current()} when the write is submitted.
 */
public final class TenantScope {
  /** The scope of work done for every tenant: claims, sweeps, admin and migration paths. */
  public static final String ALL = "*";

  private static final ThreadLocal<String> CURRENT = new ThreadLocal<>();

  private TenantScope() {}

  /** Restores the scope that was current before {@link #enter}. */
  public interface Entered extends AutoCloseable {
    @Override
    void close();
  }

  /** The tenant this thread works for, or {@link #ALL}. */
  public static String current() {
    String t = CURRENT.get();
    return t == null ? ALL : t;
  }

  /**
   * Makes the all-tenants scope current on this thread until the result is closed: for the few
   * deliberate deployment-wide reads made while serving a request (the queue depth a quota checks,
   * the run counts of {@code /metrics}). Use it around those reads only.
   */
  public static Entered enterEveryTenant() {
    return set(ALL);
  }

  /**
   * Makes {@code tenant} current on this thread until the result is closed.
   *
   * @throws IllegalArgumentException if {@code tenant} is empty or {@code *}
   */
  public static Entered enter(String tenant) {
    Objects.requireNonNull(tenant, "tenant");
    if (tenant.isEmpty() || tenant.equals(ALL)) {
      throw new IllegalArgumentException(
          "a tenant scope needs a tenant id, got '" + tenant + "' (the all-tenants scope is '*')");
    }
    return set(tenant);
  }

  private static Entered set(String scope) {
    String before = CURRENT.get();
    CURRENT.set(scope);
    return () -> {
      if (before == null) {
        CURRENT.remove();
      } else {
        CURRENT.set(before);
      }
    };
  }
}
