package dev.keel.store;

import java.util.Optional;

/**
 * The store's record of every agent version a deployment has registered, so a run pinned to a
 * version resumes after a restart or on a process that never loaded that version's file. The record
 * is deployment-wide (not per tenant) and immutable: a (name, version) once stored keeps its
 * content forever (docs/decisions/0024-agent-versions-in-the-store.md).
 */
public interface AgentDefinitions {

  /**
   * A stored definition.
   *
   * @param name the agent's name
   * @param version the version
   * @param contentHash the SHA-256 of {@code definition}
   * @param definition the canonical JSON of the definition, without its version
   */
  record Stored(String name, String version, String contentHash, String definition) {}

  /** Keeps nothing and finds nothing: versions live only in memory. */
  AgentDefinitions NONE =
      new AgentDefinitions() {
        @Override
        public boolean save(Stored definition) {
          return false;
        }

        @Override
        public Optional<Stored> find(String name, String version) {
          return Optional.empty();
        }
      };

  /**
   * Stores {@code definition} unless its (name, version) is already stored.
   *
   * @return true if it was stored now, false if the same content was already stored
   * @throws IllegalStateException if that (name, version) is stored with another content hash
   */
  boolean save(Stored definition);

  /** The stored definition of {@code name} at {@code version}, if any. */
  Optional<Stored> find(String name, String version);

  /** The refusal of a second, different content under one (name, version). */
  static IllegalStateException conflict(Stored stored, Stored offered) {
    return new IllegalStateException(
        "agent "
            + offered.name()
            + " version "
            + offered.version()
            + " is already stored with other content (hash "
            + stored.contentHash()
            + ", offered "
            + offered.contentHash()
            + "); a changed definition needs a new version");
  }
}
