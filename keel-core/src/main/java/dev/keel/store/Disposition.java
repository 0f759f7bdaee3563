package dev.keel.store;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/** What happens to the lease when an append commits. */
public sealed interface Disposition {

  /** Keep the lease and extend it by the append's lease time. */
  record Keep() implements Disposition {}

  /**
   * Give the lease up. The run becomes claimable again at {@code readyAt} (a timer such as an
   * approval's expiry), or when a signal arrives, whichever comes first; with no {@code readyAt}
   * only a signal wakes it. A signal that arrived after the run's last consumed one makes it
   * claimable at once, so no signal is ever slept through.
   */
  record Release(Optional<Instant> readyAt) implements Disposition {
    /** Checks the field is present. */
    public Release {
      Objects.requireNonNull(readyAt, "readyAt");
    }
  }

  /** Keep the lease. */
  Disposition KEEP = new Keep();

  /** Release until a signal arrives. */
  Disposition RELEASE = new Release(Optional.empty());
}
