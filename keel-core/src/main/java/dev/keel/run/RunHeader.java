package dev.keel.run;

import dev.keel.json.JsonValue.JsonObject;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The parts of a run fixed at creation.
 *
 * @param runId the run
 * @param tenant its tenant
 * @param agentName the agent
 * @param agentVersion the agent version pinned at creation
 * @param input the input ({@code goal}, {@code messages})
 * @param budget its limits
 * @param channel where it came from ({@code api}, {@code cli}, ...)
 * @param threadId its thread, if any
 * @param parentRunId its parent run, if it is a sub-run
 * @param metadata free-form labels
 * @param createdAt when it was created; the wall-clock budget counts from here
 * @param versions the agent, prompt, model and tool versions the run was created with
 * @param createdBy the API key id that created the run (a sub-run: its parent's), if recorded
 */
public record RunHeader(
    RunId runId,
    String tenant,
    String agentName,
    String agentVersion,
    JsonObject input,
    Budget budget,
    String channel,
    Optional<String> threadId,
    Optional<String> parentRunId,
    JsonObject metadata,
    Instant createdAt,
    JsonObject versions,
    Optional<String> createdBy) {
  /** A header whose creator is not recorded. */
  public RunHeader(
      RunId runId,
      String tenant,
      String agentName,
      String agentVersion,
      JsonObject input,
      Budget budget,
      String channel,
      Optional<String> threadId,
      Optional<String> parentRunId,
      JsonObject metadata,
      Instant createdAt,
      JsonObject versions) {
    this(
        runId,
        tenant,
        agentName,
        agentVersion,
        input,
        budget,
        channel,
        threadId,
        parentRunId,
        metadata,
        createdAt,
        versions,
        Optional.empty());
  }

  /** A header with no recorded versions beyond the agent's. */
  public RunHeader(
      RunId runId,
      String tenant,
      String agentName,
      String agentVersion,
      JsonObject input,
      Budget budget,
      String channel,
      Optional<String> threadId,
      Optional<String> parentRunId,
      JsonObject metadata,
      Instant createdAt) {
    this(
        runId,
        tenant,
        agentName,
        agentVersion,
        input,
        budget,
        channel,
        threadId,
        parentRunId,
        metadata,
        createdAt,
        dev.keel.json.JsonValue.EMPTY_OBJECT);
  }

  /** Checks every field is present. */
  public RunHeader {
    Objects.requireNonNull(createdBy, "createdBy");
    Objects.requireNonNull(runId, "runId");
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(agentName, "agentName");
    Objects.requireNonNull(agentVersion, "agentVersion");
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(budget, "budget");
    Objects.requireNonNull(channel, "channel");
    Objects.requireNonNull(threadId, "threadId");
    Objects.requireNonNull(parentRunId, "parentRunId");
    Objects.requireNonNull(metadata, "metadata");
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(versions, "versions");
  }
}
