package dev.keel.tools;

import java.time.InstantSource;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * The deployment-wide collaborators every {@link GovernedTool} shares: time, waiting, randomness
 * for jitter, audit, redaction, artifact storage and breaker settings. All injected, so tests run
 * on a manual clock with a seeded random and a recording sleeper.
 *
 * @param clock the clock for breakers, rate limits and audit times
 * @param sleeper waits between retries
 * @param random jitter source
 * @param audit where audit events go
 * @param redactor masks secrets in audited arguments and results
 * @param artifacts keeps whole outputs that were truncated
 * @param breaker circuit breaker settings for every tool
 */
public record ToolRuntime(
    InstantSource clock,
    Sleeper sleeper,
    RandomGenerator random,
    ToolAudit audit,
    Redactor redactor,
    ArtifactSink artifacts,
    CircuitBreaker.Config breaker) {
  /** Checks every field is present. */
  public ToolRuntime {
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(sleeper, "sleeper");
    Objects.requireNonNull(random, "random");
    Objects.requireNonNull(audit, "audit");
    Objects.requireNonNull(redactor, "redactor");
    Objects.requireNonNull(artifacts, "artifacts");
    Objects.requireNonNull(breaker, "breaker");
  }
}
