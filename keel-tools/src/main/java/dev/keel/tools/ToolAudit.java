package dev.keel.tools;

/** Where the governed tool layer sends its audit events. Implementations must not block long. */
@FunctionalInterface
public interface ToolAudit {

  /** Records one event. */
  void record(ToolAuditEvent event);

  /** An audit that drops every event, for wiring that records elsewhere. */
  static ToolAudit discard() {
    return event -> {};
  }
}
