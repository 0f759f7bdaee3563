/**
 * Observability for Keel: OpenTelemetry traces following the GenAI semantic conventions, Micrometer
 * metrics in the Prometheus format, and JSON log lines; all fed by the engine's {@link
 * dev.keel.engine.EngineObserver} port and masked by the shared {@link dev.keel.redact.Redaction}.
 */
@NullMarked
package dev.keel.observe;

import org.jspecify.annotations.NullMarked;
