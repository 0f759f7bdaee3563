package dev.keel.tools;

/** Keeps whole tool outputs that were too large to give the model, and returns a reference. */
@FunctionalInterface
public interface ArtifactSink {

  /**
   * Stores {@code content} produced by call {@code callId} of run {@code runId} of {@code tenant}.
   *
   * @return a reference the model and people can use to fetch it (such as {@code artifact://...})
   */
  String store(String tenant, String runId, String callId, String mediaType, byte[] content);
}
